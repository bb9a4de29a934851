namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The append-only NDJSON files of the bronze and quarantine layers under the data directory. One writer (the
/// journal's commit loop) appends; each process run starts new part files, so a line torn by a crash is never
/// followed by new data in the same file.
/// <para>
/// A commit's lines wait in memory (<see cref="BronzePart"/>) until the commit writes them at the part's durable end,
/// so a failed commit's lines can be dropped whole (<see cref="Abandon"/>): nothing of it reaches the disk later, and
/// no later line is written after a torn one. A full disk once did both through a stream's own buffer.
/// </para>
/// </summary>
internal sealed class BronzeFiles(string dataDirectory) : IDisposable
{
    private const long MaxPartBytes = 256L * 1024 * 1024;

    private readonly string _runId = $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}-{Random.Shared.Next(0x10000):x4}";
    private readonly Dictionary<string, BronzePart> _open = new(StringComparer.Ordinal);
    private readonly List<BronzePart> _dirty = [];
    private readonly List<BronzePart> _rolledOver = [];
    private readonly HashSet<BronzePart> _torn = [];

    /// <summary>Where the next line of <paramref name="length"/> bytes appended to the partition will go.</summary>
    public (string Location, long Offset) Next(string partition, int length)
    {
        if (!_open.TryGetValue(partition, out var part) || part.End + length > MaxPartBytes)
        {
            part = OpenPart(partition, part);
        }

        return (part.Location, part.End);
    }

    /// <summary>Appends one line at the position <see cref="Next"/> gave; it reaches the file when the commit writes it.</summary>
    public void Append(string partition, ReadOnlySpan<byte> line)
    {
        var part = _open[partition];
        if (!part.IsDirty)
        {
            _dirty.Add(part);
        }

        part.Add(line);
    }

    /// <summary>The parts this commit appended to: the caller writes and fsyncs each (<see cref="BronzePart.WriteAndSync"/>).</summary>
    public IReadOnlyList<BronzePart> Dirty => _dirty;

    /// <summary>The commit succeeded: its lines are durable.</summary>
    public void Committed()
    {
        foreach (var part in _dirty)
        {
            part.Committed();
        }

        _dirty.Clear();
        CloseRolledOver();
        if (_open.Count > 256)
        {
            // Hour partitions roll over: close them all rather than keep one handle per hour ever written.
            foreach (var part in _open.Values)
            {
                part.Dispose();
            }

            _open.Clear();
        }
    }

    /// <summary>
    /// The commit failed: its lines are dropped, and what of them was written is cut off again. A part that cannot be
    /// cut is kept for <see cref="Repair"/>, which must succeed before the next commit writes anything.
    /// </summary>
    public void Abandon()
    {
        foreach (var part in _dirty)
        {
            try
            {
                part.Abandon();
            }
            catch (IOException)
            {
                _torn.Add(part);
            }
        }

        _dirty.Clear();
        CloseRolledOver();
    }

    /// <summary>Cuts the parts a failed commit could not cut; throws while one still cannot be.</summary>
    public void Repair()
    {
        foreach (var part in _torn.ToList())
        {
            part.Abandon();
            _torn.Remove(part);
        }
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

    private BronzePart OpenPart(string partition, BronzePart? previous)
    {
        if (previous is not null)
        {
            // Its lines of this commit are still to be written: it closes once the commit is over.
            _open.Remove(partition);
            _rolledOver.Add(previous);
        }

        var location = $"{partition}/part-{_runId}-{(previous is null ? 0 : previous.Number + 1):D3}.ndjson";
        var part = new BronzePart(dataDirectory, location, previous is null ? 0 : previous.Number + 1);
        _open[partition] = part;
        return part;
    }

    private void CloseRolledOver()
    {
        foreach (var part in _rolledOver.Where(part => !_torn.Contains(part)))
        {
            part.Dispose();
        }

        _rolledOver.RemoveAll(part => !_torn.Contains(part));
    }

    public void Dispose()
    {
        foreach (var part in _open.Values.Concat(_rolledOver))
        {
            part.Dispose();
        }

        _open.Clear();
        _rolledOver.Clear();
    }
}
