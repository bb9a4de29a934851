using System.Buffers;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// One bronze or quarantine part file: the bytes on disk up to <see cref="Durable"/> belong to completed commits, and
/// the lines of the commit under way wait in memory until <see cref="WriteAndSync"/> writes them after those bytes.
/// </summary>
internal sealed class BronzePart : IDisposable
{
    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _pending = new(1 << 16);

    public BronzePart(string dataDirectory, string location, int number)
    {
        Location = location;
        Number = number;
        var path = Path.Combine(dataDirectory, location);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Unbuffered: the only bytes that reach the file are the ones WriteAndSync writes, at the offset it chooses.
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, bufferSize: 0);
    }

    /// <summary>The part's path under the data directory.</summary>
    public string Location { get; }

    public int Number { get; }

    /// <summary>Bytes of completed commits.</summary>
    public long Durable { get; private set; }

    /// <summary>Where the next line goes: after the durable bytes and the lines waiting.</summary>
    public long End => Durable + _pending.WrittenCount;

    public bool IsDirty => _pending.WrittenCount > 0;

    public void Add(ReadOnlySpan<byte> line) => _pending.Write(line);

    /// <summary>Writes the waiting lines after the durable bytes and fsyncs the file; a worker thread calls it.</summary>
    public void WriteAndSync(JournalFaults faults)
    {
        faults.At(CommitStep.BronzeWrite);
        RandomAccess.Write(_file.SafeFileHandle, _pending.WrittenSpan, Durable);
        faults.At(CommitStep.BronzeSync);
        _file.Flush(flushToDisk: true);
    }

    /// <summary>The commit succeeded: the lines written are durable.</summary>
    public void Committed()
    {
        Durable += _pending.WrittenCount;
        _pending.ResetWrittenCount();
    }

    /// <summary>The commit failed: drops its lines and cuts off whatever of them was written (and fsyncs the cut).</summary>
    /// <exception cref="IOException">The file could not be cut; call again before anything more is written.</exception>
    public void Abandon()
    {
        _pending.ResetWrittenCount();
        if (RandomAccess.GetLength(_file.SafeFileHandle) != Durable)
        {
            _file.SetLength(Durable);
            _file.Flush(flushToDisk: true);
        }
    }

    public void Dispose() => _file.Dispose();
}
