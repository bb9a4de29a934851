namespace ClinicalTrials.Lake.Storage;

/// <summary>Which storage the lake uses (<c>Storage:Provider</c>); bronze is always first written to the local journal.</summary>
public enum StorageProvider
{
    /// <summary>A directory: the data directory itself (the embedded default).</summary>
    Local,

    /// <summary>An S3-compatible bucket (<c>Storage:S3:*</c>).</summary>
    S3,
}

/// <summary>The lake's storage, bound from the <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    public StorageProvider Provider { get; set; } = StorageProvider.Local;

    public S3StorageOptions S3 { get; set; } = new();

    /// <summary>Null when the options are usable; otherwise what is wrong (never includes the keys).</summary>
    public string? Problem() => Provider switch
    {
        StorageProvider.Local => null,
        StorageProvider.S3 when string.IsNullOrWhiteSpace(S3.ServiceUrl) || !Uri.TryCreate(S3.ServiceUrl, UriKind.Absolute, out _) =>
            "Storage:S3:ServiceUrl must be an absolute URL when Storage:Provider is S3.",
        StorageProvider.S3 when string.IsNullOrWhiteSpace(S3.Bucket) => "Storage:S3:Bucket is required when Storage:Provider is S3.",
        StorageProvider.S3 when string.IsNullOrEmpty(S3.AccessKey) || string.IsNullOrEmpty(S3.SecretKey) =>
            "Storage:S3:AccessKey and Storage:S3:SecretKey are required when Storage:Provider is S3.",
        _ => null,
    };

    /// <summary>The storage these options name: the data directory itself when local.</summary>
    public ILakeStorage Create(string dataDirectory) => Provider == StorageProvider.S3
        ? new S3LakeStorage(S3, Path.Combine(Path.GetFullPath(dataDirectory), ".lake-tmp"))
        : new LocalLakeStorage(dataDirectory);
}

/// <summary>An S3-compatible server (<c>Storage:S3</c>). The keys are secrets: never logged, never in <see cref="ToString"/>.</summary>
public sealed class S3StorageOptions
{
    /// <summary>The server's URL, e.g. <c>http://127.0.0.1:9000</c> (MinIO) or <c>https://s3.eu-west-1.amazonaws.com</c>.</summary>
    public string? ServiceUrl { get; set; }

    public string? Bucket { get; set; }

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Signing region; S3-compatible servers accept any.</summary>
    public string Region { get; set; } = "us-east-1";

    public override string ToString() => $"{ServiceUrl}/{Bucket}";
}
