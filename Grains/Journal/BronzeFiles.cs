namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The append-only NDJSON files of the bronze and quarantine layers under the data directory. One writer (the
/// journal's commit loop) appends; each process run starts new part files, so a line torn by a crash is never
/// followed by new data in the same file.
/// </summary>
internal sealed class BronzeFiles(string dataDirectory) : IDisposable
{
    private const long MaxPartBytes = 256L * 1024 * 1024;

    private readonly string _runId = $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}-{Random.Shared.Next(0x10000):x4}";
    private readonly Dictionary<string, Part> _open = new(StringComparer.Ordinal);
    private readonly HashSet<Part> _dirty = [];
    private readonly List<FileStream> _toSync = [];

    /// <summary>Where the next line of <paramref name="length"/> bytes appended to the partition will go.</summary>
    public (string Location, long Offset) Next(string partition, int length)
    {
        if (!_open.TryGetValue(partition, out var part) || part.Stream.Position + length > MaxPartBytes)
        {
            part = OpenPart(partition, part is null ? 0 : part.Number + 1);
        }

        return (part.Location, part.Stream.Position);
    }

    /// <summary>Appends one line at the position <see cref="Next"/> gave.</summary>
    public void Append(string partition, ReadOnlySpan<byte> line)
    {
        var part = _open[partition];
        part.Stream.Write(line);
        _dirty.Add(part);
    }

    /// <summary>
    /// The files appended to since the last call. The caller makes them durable (flush and fsync) before anything
    /// refers to their new lines, and appends nothing meanwhile. The list is reused by the next call.
    /// </summary>
    public IReadOnlyList<FileStream> TakeDirty()
    {
        _toSync.Clear();
        foreach (var part in _dirty)
        {
            _toSync.Add(part.Stream);
        }

        _dirty.Clear();
        return _toSync;
    }

    /// <summary>Closes every part once too many are open (hour partitions roll over); call after their sync.</summary>
    public void CloseWhenManyOpen()
    {
        if (_open.Count <= 256)
        {
            return;
        }

        foreach (var part in _open.Values)
        {
            part.Stream.Dispose();
        }

        _open.Clear();
    }

    /// <summary>Whether the file written earlier at <paramref name="location"/> holds at least <paramref name="length"/> bytes.</summary>
    public static bool Holds(string dataDirectory, string location, long length)
    {
        var file = new FileInfo(Path.Combine(dataDirectory, location));
        return file.Exists && file.Length >= length;
    }

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of a file written earlier.</summary>
    public static byte[] Read(string dataDirectory, string location, long offset, int length)
    {
        using var handle = File.OpenHandle(Path.Combine(dataDirectory, location), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(handle, buffer.AsSpan(read), offset + read);
            if (n == 0)
            {
                throw new InvalidDataException($"Bronze file {location} ends before offset {offset + length}.");
            }

            read += n;
        }

        return buffer;
    }

    private Part OpenPart(string partition, int number)
    {
        if (_open.Remove(partition, out var previous))
        {
            previous.Stream.Flush(flushToDisk: true);
            _dirty.Remove(previous);
            previous.Stream.Dispose();
        }

        var location = $"{partition}/part-{_runId}-{number:D3}.ndjson";
        var path = Path.Combine(dataDirectory, location);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
        var part = new Part(location, number, stream);
        _open[partition] = part;
        return part;
    }

    public void Dispose()
    {
        foreach (var part in _open.Values)
        {
            part.Stream.Dispose();
        }

        _open.Clear();
    }

    private sealed record Part(string Location, int Number, FileStream Stream);
}
