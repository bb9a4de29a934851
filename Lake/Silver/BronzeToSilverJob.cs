using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
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

    private const int ChunkBytes = 8 << 20;

    public string Name => JobName;

    public async Task<JobOutcome> RunAsync(JobArguments arguments, CancellationToken cancellationToken)
    {
        var outcome = new JobOutcome();
        var progress = lake.State.BronzeProgress();
        var pending = new PendingSilver();
        var consumed = new Dictionary<string, long>(StringComparer.Ordinal);
        var now = lake.Clock.GetUtcNow();
        var reading = System.Diagnostics.Stopwatch.StartNew();

        foreach (var location in BronzeFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = progress.GetValueOrDefault(location).Consumed;
            var end = ReadFile(location, start, IsSealed(location, now), pending, outcome);
            if (end != start)
            {
                consumed[location] = end;
            }

            if (pending.Rows >= lake.Options.MaxRowsInMemory)
            {
                reading.Stop();
                await FlushAsync(pending, consumed, outcome, cancellationToken);
                reading.Start();
            }
        }

        reading.Stop();
        outcome.Count("ms.read_and_validate", reading.ElapsedMilliseconds);
        await FlushAsync(pending, consumed, outcome, cancellationToken);
        if (lake.StorageIsRemote)
        {
            await CopySealedBronzeAsync(now, outcome, cancellationToken);
        }

        return outcome;
    }

    /// <summary>Bronze part files under the data directory, as locations relative to it, in a stable order.</summary>
    private IEnumerable<string> BronzeFiles()
    {
        var root = Path.Combine(lake.DataDirectory, "raw");
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
        return hour.AddHours(1) + lake.Options.BronzeSealDelay <= now;
    }

    /// <summary>Reads complete lines from <paramref name="start"/>; returns the offset up to which the file is consumed.</summary>
    private long ReadFile(string location, long start, bool isSealed, PendingSilver pending, JobOutcome outcome)
    {
        using var file = new FileStream(Path.Combine(lake.DataDirectory, location), FileMode.Open, FileAccess.Read,
            FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        var length = file.Length;
        if (start >= length)
        {
            return start;
        }

        file.Position = start;
        var buffer = new byte[(int)Math.Min(ChunkBytes, length - start)];
        var position = start;
        var filled = 0;
        while (true)
        {
            var read = file.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            var lastNewline = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n');
            if (lastNewline >= 0)
            {
                ParseLines(buffer.AsMemory(0, lastNewline + 1), pending, outcome);
                position += lastNewline + 1;
                var rest = filled - (lastNewline + 1);
                buffer.AsSpan(lastNewline + 1, rest).CopyTo(buffer);
                filled = rest;
            }
            else if (read > 0 && filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2); // one line longer than the buffer
                continue;
            }

            if (read == 0 || position >= length)
            {
                break;
            }
        }

        if (filled > 0 && isSealed)
        {
            // Only a crash mid-append leaves a line without its newline, and only at the end of a part file.
            outcome.Count("torn_lines");
            outcome.RowsIn++;
            return position + filled;
        }

        return position;
    }

    /// <summary>Parses the lines of one chunk on every core, then adds the results in file order.</summary>
    private static void ParseLines(ReadOnlyMemory<byte> chunk, PendingSilver pending, JobOutcome outcome)
    {
        var lines = new List<(int Start, int Length)>();
        var span = chunk.Span;
        for (var at = 0; at < span.Length;)
        {
            var end = span[at..].IndexOf((byte)'\n');
            if (end > 0)
            {
                lines.Add((at, end));
            }

            at += end + 1;
        }

        var results = new ParsedLine[lines.Count];
        Parallel.ForEach(Partitioner.Create(0, lines.Count, 1024), range =>
        {
            for (var i = range.Item1; i < range.Item2; i++)
            {
                var (start, length) = lines[i];
                results[i] = Parse(chunk.Slice(start, length));
            }
        });

        foreach (var result in results)
        {
            outcome.RowsIn++;
            if (result.Message is { } message)
            {
                pending.Add(message, result.ReceivedAt);
            }
            else if (result.Violations is null)
            {
                outcome.Count("unreadable_lines");
            }
            else
            {
                outcome.Count("rejected");
                foreach (var reason in result.Violations.Select(v => $"rejected.{v.Rule}.{Indexes().Replace(v.Field, "[]")}").Distinct())
                {
                    outcome.Count(reason);
                }
            }
        }
    }

    private static ParsedLine Parse(ReadOnlyMemory<byte> line)
    {
        if (!BronzeRecord.TryParse(line.Span, out var record))
        {
            return default;
        }

        var result = ClinicalMessageParser.Parse(record.Raw, record.ReceivedAt);
        return new ParsedLine(result.Message, record.ReceivedAt, result.Violations);
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

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex Indexes();

    private readonly record struct ParsedLine(ClinicalMessage? Message, DateTimeOffset ReceivedAt, IReadOnlyList<Violation>? Violations);
}
