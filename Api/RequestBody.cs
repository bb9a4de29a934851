using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace ClinicalTrials.Api;

/// <summary>
/// A request body read whole into a pooled buffer. Batches run to megabytes; renting instead of allocating keeps
/// them off the large-object heap, whose collections would otherwise dominate ingest under load.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] _buffer;
    private int _length;

    private RequestBody(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    /// <summary>The body, or null when it is larger than <paramref name="limit"/> bytes.</summary>
    public static async Task<RequestBody?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var body = new RequestBody((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        while (true)
        {
            if (body._length == body._buffer.Length)
            {
                body.Grow();
            }

            var read = await request.Body.ReadAsync(body._buffer.AsMemory(body._length), cancellationToken);
            if (read == 0)
            {
                return body;
            }

            body._length += read;
            if (body._length > limit)
            {
                body.Dispose();
                return null;
            }
        }
    }

    private void Grow()
    {
        var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }
}
