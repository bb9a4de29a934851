using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Lake.Jobs;

namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// Bronze NDJSON (the journal's local files) to silver Parquet, incrementally: each bronze file is read from the byte
/// where the last run stopped; every line is validated again with the ingest rules and units standardised
/// (<see cref="ClinicalMessageParser"/>); rows are merged into the silver file of their table and clinical date, which
/// is rewritten whole, de-duplicated and sorted. Because a silver file is a function of the set of rows in it, a
/// re-run (after a crash, or of the same input) writes identical files. Progress is committed only after the files
/// are stored.
/// </summary>
public sealed partial class BronzeToSilverJob(LakeContext lake) : ILakeJob
{
    public const string JobName = "bronze-to-silver";

    // Bronze is cut into chunks of whole lines that the cores take one by one, a batch of chunks at a time.
    private const int ChunkBytes = 2 << 20;
    private const int BatchBytes = 32 << 20;

    public string Name => JobName;

    public async Task<JobOutcome> RunAsync(JobArguments arguments, CancellationToken cancellationToken)
    {
        var outcome = new JobOutcome();
        var now = lake.Clock.GetUtcNow();
        var progress = lake.State.BronzeProgress();
        var exported = lake.JournalBronze is { } journal ? await WriteOutSealedHoursAsync(journal, now, progress, outcome, cancellationToken) : [];
        var pending = new PendingSilver();
        var readers = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new BronzeChunkReader()).ToArray();
        var batch = new List<BronzeChunk>();
        var consumed = new Dictionary<string, long>(StringComparer.Ordinal);
        var reading = System.Diagnostics.Stopwatch.StartNew();

        foreach (var location in BronzeFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = progress.GetValueOrDefault(location).Consumed;
            var end = CutIntoChunks(location, start, IsSealed(location, now), batch, outcome);
            if (end != start)
            {
                consumed[location] = end;
            }

            if (batch.Sum(c => c.Length) >= BatchBytes)
            {
                ReadBatch(batch, readers, pending);
            }

            if (pending.Rows >= lake.Options.MaxRowsInMemory)
            {
                reading.Stop();
                await FlushAsync(pending, consumed, outcome, cancellationToken);
                reading.Start();
            }
        }

        ReadBatch(batch, readers, pending);
        reading.Stop();
        foreach (var reader in readers)
        {
            outcome.Add(reader.Outcome);
        }

        outcome.Count("ms.read_and_validate", reading.ElapsedMilliseconds);
        await FlushAsync(pending, consumed, outcome, cancellationToken);
        if (lake.StorageIsRemote)
        {
            await CopySealedBronzeAsync(now, outcome, cancellationToken);
        }

        if (lake.JournalBronze is { } shared)
        {
            var read = lake.State.BronzeProgress();
            if (exported.All(location => InTheLake(location, read)))
            {
                await shared.MarkExportedAsync(SealedBefore(now), cancellationToken);
            }
        }

        return outcome;
    }

    /// <summary>
    /// The cluster profile's bronze is the shared journal's rows: each sealed hour the lake does not hold yet is
    /// written out as a bronze file of the data directory (whole, or not at all), and read from there like any other.
    /// A file another silo read, but did not yet copy to the lake storage, is written out again: the same bytes.
    /// Returns every file of the hours since the journal's export mark.
    /// </summary>
    private async Task<IReadOnlyList<string>> WriteOutSealedHoursAsync(IJournalBronze journal, DateTimeOffset now,
        Dictionary<string, (long Consumed, bool Copied)> progress, JobOutcome outcome, CancellationToken cancellationToken)
    {
        var files = await journal.SealedFilesAsync(SealedBefore(now), cancellationToken);
        foreach (var location in files)
        {
            var path = Path.Combine(lake.DataDirectory, location);
            if (File.Exists(path) || (progress.TryGetValue(location, out var read) && read.Copied))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var partial = path + ".partial";
            await journal.WriteFileAsync(location, partial, cancellationToken);
            File.Move(partial, path, overwrite: true);
            outcome.Count("bronze_files_written_from_journal");
        }

        return files;
    }

    /// <summary>A bronze file is in the lake once it is read whole into silver and, with a bucket, copied there.</summary>
    private bool InTheLake(string location, Dictionary<string, (long Consumed, bool Copied)> progress)
    {
        if (!progress.TryGetValue(location, out var read))
        {
            return false;
        }

        var path = Path.Combine(lake.DataDirectory, location);
        return read.Copied || (!lake.StorageIsRemote && File.Exists(path) && new FileInfo(path).Length == read.Consumed);
    }

    /// <summary>Bronze part files under the data directory, as locations relative to it, in a stable order.</summary>
    /// <summary>
    /// The local bronze files, how many are sealed, and what of them this job has not yet turned into silver: the
    /// pipeline doctor's measure of how far silver lags bronze.
    /// </summary>
    public BronzeBacklog Backlog()
    {
        var now = lake.Clock.GetUtcNow();
        var progress = lake.State.BronzeProgress();
        long files = 0, sealedFiles = 0, waitingFiles = 0, waitingBytes = 0;
        foreach (var location in BronzeFiles())
        {
            files++;
            sealedFiles += IsSealed(location, now) ? 1 : 0;
            var left = new FileInfo(Path.Combine(lake.DataDirectory, location)).Length - progress.GetValueOrDefault(location).Consumed;
            if (left > 0)
            {
                waitingFiles++;
                waitingBytes += left;
            }
        }

        return new BronzeBacklog(files, sealedFiles, waitingFiles, waitingBytes);
    }

    private IEnumerable<string> BronzeFiles()
    {
        var root = Path.Combine(lake.DataDirectory, BronzeRecord.RawFolder);
        return Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "part-*.ndjson", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(lake.DataDirectory, p).Replace(Path.DirectorySeparatorChar, '/'))
                .Order(StringComparer.Ordinal)
            : [];
    }

    /// <summary>
    /// A file is sealed once its hour partition (received time) is over by <see cref="PipelineOptions.BronzeSealDelay"/>:
    /// the journal appends nothing more to it, so an incomplete last line is a tear from a crash, not a line being written.
    /// </summary>
    private bool IsSealed(string location, DateTimeOffset now)
    {
        var match = HourPartition().Match(location);
        if (!match.Success)
        {
            return true;
        }

        var hour = DateTimeOffset.ParseExact($"{match.Groups[1].Value} {match.Groups[2].Value}", "yyyy-MM-dd HH",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        return hour < SealedBefore(now);
    }

    /// <summary>The start of the first hour that is not sealed at <paramref name="now"/>.</summary>
    private DateTimeOffset SealedBefore(DateTimeOffset now)
    {
        var cutoff = (now - lake.Options.BronzeSealDelay).UtcDateTime;
        return new DateTimeOffset(cutoff.Year, cutoff.Month, cutoff.Day, cutoff.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>
    /// Cuts the complete lines from <paramref name="start"/> into chunks of whole lines (buffers rented from the shared
    /// pool) and adds them to <paramref name="batch"/>; returns the offset up to which the file is then consumed.
    /// </summary>
    private long CutIntoChunks(string location, long start, bool isSealed, List<BronzeChunk> batch, JobOutcome outcome)
    {
        using var file = File.OpenHandle(Path.Combine(lake.DataDirectory, location), FileMode.Open, FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete);
        var length = RandomAccess.GetLength(file);
        var position = start;
        var size = ChunkBytes;
        while (position < length)
        {
            var want = (int)Math.Min(size, length - position);
            var buffer = ArrayPool<byte>.Shared.Rent(want);
            var read = 0;
            while (read < want && RandomAccess.Read(file, buffer.AsSpan(read, want - read), position + read) is var n and > 0)
            {
                read += n;
            }

            var lineEnd = buffer.AsSpan(0, read).LastIndexOf((byte)'\n') + 1;
            if (lineEnd > 0)
            {
                batch.Add(new BronzeChunk(buffer, lineEnd));
                position += lineEnd;
                continue;
            }

            ArrayPool<byte>.Shared.Return(buffer);
            if (read == 0)
            {
                break; // shorter than it was a moment ago: nothing more to take from it in this run
            }

            if (position + read < length)
            {
                size *= 2; // one line longer than a chunk
                continue;
            }

            if (isSealed)
            {
                // Only a crash mid-append leaves a line without its newline, and only at the end of a part file.
                outcome.Count("torn_lines");
                outcome.RowsIn++;
                return length;
            }

            break; // the journal is still writing this line
        }

        return position;
    }

    /// <summary>Parses the batch's chunks on every core, each core into its own pending rows, then gathers them.</summary>
    private static void ReadBatch(List<BronzeChunk> batch, BronzeChunkReader[] readers, PendingSilver pending)
    {
        var next = -1;
        Parallel.For(0, readers.Length, r =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < batch.Count;)
            {
                readers[r].Read(batch[i].Lines);
            }
        });

        foreach (var reader in readers)
        {
            pending.MoveFrom(reader.Pending);
        }

        foreach (var chunk in batch)
        {
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }

        batch.Clear();
    }

    private async Task FlushAsync(PendingSilver pending, Dictionary<string, long> consumed, JobOutcome outcome, CancellationToken cancellationToken)
    {
        if (consumed.Count == 0)
        {
            return;
        }

        var writing = System.Diagnostics.Stopwatch.StartNew();
        var partitions = pending.Partitions().ToList();
        var results = new ConcurrentBag<SilverWrite>();
        await Parallel.ForEachAsync(partitions, new ParallelOptions { CancellationToken = cancellationToken }, async (partition, ct) =>
            results.Add(await partition.MergeAsync(lake.Storage, ct)));

        foreach (var write in results)
        {
            outcome.RowsOut += write.Added;
            outcome.Count("duplicates.message_id", write.DuplicateIds);
            outcome.Count("duplicates.natural_key", write.DuplicateKeys);
            outcome.Count("silver_files_written");
        }

        lake.State.CommitProgress(consumed, partitions.Select(p => p.Date).Distinct());
        outcome.Count("ms.merge_and_write", writing.ElapsedMilliseconds);
        consumed.Clear();
        pending.Clear();
    }

    /// <summary>With silver in a bucket, sealed and fully read bronze files are copied to the bucket's <c>raw/…</c> too.</summary>
    private async Task CopySealedBronzeAsync(DateTimeOffset now, JobOutcome outcome, CancellationToken cancellationToken)
    {
        foreach (var (location, (consumed, copied)) in lake.State.BronzeProgress())
        {
            var path = Path.Combine(lake.DataDirectory, location);
            if (copied || !IsSealed(location, now) || !File.Exists(path) || new FileInfo(path).Length != consumed)
            {
                continue;
            }

            await lake.Storage.CopyFromAsync(location, path, cancellationToken);
            lake.State.MarkCopied(location);
            outcome.Count("bronze_files_copied");
        }
    }

    [GeneratedRegex(@"date=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/")]
    private static partial Regex HourPartition();
}

/// <summary>What <see cref="BronzeToSilverJob.Backlog"/> found.</summary>
/// <param name="Files">Local bronze files.</param>
/// <param name="SealedFiles">Of them, those whose hour is over (no more appends).</param>
/// <param name="WaitingFiles">Files with bytes not yet in silver.</param>
/// <param name="WaitingBytes">Those bytes (an open file's last line may still be being written).</param>
public sealed record BronzeBacklog(long Files, long SealedFiles, long WaitingFiles, long WaitingBytes);
