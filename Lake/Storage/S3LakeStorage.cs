using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ClinicalTrials.Lake.Storage;

/// <summary>
/// The lake in an S3 bucket (AWS, MinIO, s3rver…): a key is an object key. Path-style addressing, so any
/// S3-compatible server works at its own URL. A PUT replaces an object atomically, which is what makes writes
/// all-or-nothing here.
/// </summary>
public sealed class S3LakeStorage : ILakeStorage, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;

    public S3LakeStorage(S3StorageOptions options, string scratchDirectory)
    {
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = options.Region,
        };
        _client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        _bucket = options.Bucket!;
        ScratchDirectory = scratchDirectory;
        Directory.CreateDirectory(ScratchDirectory);
        Description = $"s3 {options.ServiceUrl?.TrimEnd('/')}/{_bucket}";
    }

    public string Description { get; }

    public string ScratchDirectory { get; }

    public async Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        await CopyFromAsync(key, sourcePath, cancellationToken);
        File.Delete(sourcePath);
    }

    public async Task CopyFromAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        LakeLayout.CheckKey(key);
        // Chunked (aws-chunked) uploads are stored with their framing by servers that do not speak it (s3rver).
        await CallAsync(() => _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket, Key = key, FilePath = sourcePath, UseChunkEncoding = false,
        }, cancellationToken), cancellationToken);
    }

    public async Task PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        LakeLayout.CheckKey(key);
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        await CallAsync(() => _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket, Key = key, InputStream = stream, UseChunkEncoding = false,
        }, cancellationToken), cancellationToken);
    }

    public Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default) => CallAsync(async () =>
    {
        try
        {
            using var response = await _client.GetObjectAsync(_bucket, key, cancellationToken);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }, cancellationToken);

    public Task<LocalFileLease?> OpenLocalAsync(string key, CancellationToken cancellationToken = default) => CallAsync(async () =>
    {
        var path = Path.Combine(ScratchDirectory, $"{Guid.NewGuid():N}.download");
        try
        {
            using var response = await _client.GetObjectAsync(_bucket, key, cancellationToken);
            await using (var file = File.Create(path))
            {
                await response.ResponseStream.CopyToAsync(file, cancellationToken);
            }

            return new LocalFileLease(path, temporary: true);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }, cancellationToken);

    public async IAsyncEnumerable<LakeObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var response = await CallAsync(() => _client.ListObjectsV2Async(request, cancellationToken), cancellationToken);
            foreach (var item in (response.S3Objects ?? []).OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                yield return new LakeObject(item.Key, item.Size ?? 0, item.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime()) : DateTimeOffset.MinValue);
            }

            if (response.IsTruncated != true)
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await CallAsync(() => _client.DeleteObjectAsync(_bucket, key, cancellationToken), cancellationToken);

    /// <summary>Creates the bucket when it does not exist (tests and first start against an empty server).</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Runs one call to the server, turning "the server cannot be reached" into <see cref="LakeStorageUnavailableException"/>.</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (IsUnreachable(e, cancellationToken))
        {
            throw new LakeStorageUnavailableException(Description, e);
        }
    }

    /// <summary>
    /// No connection (refused, reset, DNS), the SDK's own timeout (a cancellation nobody asked for), or a 5xx answer;
    /// not a 4xx, which says the request itself was wrong.
    /// </summary>
    private static bool IsUnreachable(Exception e, CancellationToken cancellationToken) =>
        (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        || (e is AmazonServiceException { StatusCode: >= HttpStatusCode.InternalServerError })
        || Chain(e).Any(x => x is HttpRequestException or System.Net.Sockets.SocketException);

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }
}
