namespace ClinicalTrials.Lake.Storage;

/// <summary>
/// Where the lake's files live: a local directory (the embedded default) or an S3 bucket, with the same keys on
/// both (<c>raw/…</c>, <c>processed/…</c>, <c>features/offline/…</c>, <c>models/…</c>; see <see cref="LakeLayout"/>).
/// A key is a relative path with forward slashes. Every write is all-or-nothing: a reader sees the old object or the
/// new one, never part of one.
/// </summary>
public interface ILakeStorage
{
    /// <summary>A short description for logs and status ("local /data", "s3 http://…/bucket"); never holds secrets.</summary>
    string Description { get; }

    /// <summary>
    /// Stores the finished file at <paramref name="sourcePath"/> under <paramref name="key"/>, replacing any object there,
    /// and removes the source file. Local: a rename on the same file system (atomic); S3: one PUT (atomic).
    /// </summary>
    Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="content"/> under <paramref name="key"/> (all-or-nothing).</summary>
    Task PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Copies the local file at <paramref name="sourcePath"/> under <paramref name="key"/>, leaving the source in place.</summary>
    Task CopyFromAsync(string key, string sourcePath, CancellationToken cancellationToken = default);

    /// <summary>The object's bytes, or null when there is none.</summary>
    Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// A local file holding the object, for readers that need random access (Parquet). Local storage hands out the
    /// file itself; S3 downloads it to a temporary file that disposing the lease removes. Null when there is none.
    /// </summary>
    Task<LocalFileLease?> OpenLocalAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, in ordinal key order.</summary>
    IAsyncEnumerable<LakeObject> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Removes the object; no error when there is none.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>A local directory for files being written before they are stored (same file system as a local lake).</summary>
    string ScratchDirectory { get; }
}

/// <summary>One stored object.</summary>
public sealed record LakeObject(string Key, long Size, DateTimeOffset LastModified);

/// <summary>A local copy of a stored object (or the object itself); dispose to release a temporary copy.</summary>
public sealed class LocalFileLease(string path, bool temporary) : IDisposable
{
    /// <summary>The file's path on this machine.</summary>
    public string Path { get; } = path;

    public void Dispose()
    {
        if (temporary)
        {
            File.Delete(Path);
        }
    }
}
