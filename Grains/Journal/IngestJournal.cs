using System.Threading.Channels;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Journal;

/// <summary>Where the silo keeps its state (the embedded default).</summary>
public sealed class JournalOptions
{
    public const string Section = "Journal";

    /// <summary>Root of the data directory: bronze, quarantine, the ledger and grain state live under it.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Most entries made durable by one commit (one pair of fsyncs).</summary>
    public int MaxEntriesPerCommit { get; set; } = 20_000;
}

/// <summary>
/// The durable record of every received message. Appends from all grains and requests are queued and made durable
/// together by one writer (group commit): bronze/quarantine lines are written and fsynced, then the ledger rows and
/// counters are committed in one SQLite transaction. An append completes only after that commit, so whatever a
/// caller acknowledges has survived the process.
/// </summary>
public sealed partial class IngestJournal : IDisposable
{
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(200);

    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _dataDirectory;
    private readonly int _maxEntriesPerCommit;
    private readonly ILogger<IngestJournal> _logger;
    private readonly LedgerDatabase _ledger;
    private readonly BronzeFiles _bronze;
    private readonly Thread _writer;
    private readonly Timer _checkpoints;

    public IngestJournal(IOptions<JournalOptions> options, ILogger<IngestJournal> logger)
    {
        _dataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        _maxEntriesPerCommit = options.Value.MaxEntriesPerCommit;
        _logger = logger;
        Directory.CreateDirectory(_dataDirectory);
        _ledger = new LedgerDatabase(Path.Combine(_dataDirectory, "ledger.db"));
        _bronze = new BronzeFiles(_dataDirectory);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "ingest-journal" };
        _writer.Start();
        _checkpoints = new Timer(_ => Checkpoint(), null, CheckpointInterval, CheckpointInterval);
    }

    public string DataDirectory => _dataDirectory;

    /// <summary>The last commit failure, cleared by the next successful commit.</summary>
    public Exception? LastError { get; private set; }

    public DateTimeOffset? LastCommitAt { get; private set; }

    /// <summary>Makes <paramref name="entries"/> durable; the results are in the same order.</summary>
    /// <exception cref="JournalUnavailableException">The commit failed (for example, the disk is full).</exception>
    public Task<JournalAppend[]> AppendAsync(IReadOnlyList<JournalEntry> entries)
    {
        var pending = new PendingAppend(entries, new TaskCompletionSource<JournalAppend[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new JournalUnavailableException("The ingest journal is shutting down.", null);
        }

        return pending.Completion.Task;
    }

    public Task<MessageRecord?> FindAsync(Guid messageId) => Task.Run(() => _ledger.Find(messageId));

    public Task<CounterSnapshot> CountersAsync(string? siteId = null) => Task.Run(() => _ledger.Counters(siteId));

    public bool CanRead() => _ledger.CanRead();

    /// <summary>A patient's accepted messages committed after <paramref name="afterSequence"/>, as received.</summary>
    public Task<List<StoredMessage>> ReadPatientAsync(string patientId, long afterSequence) => Task.Run(() =>
    {
        var stored = new List<StoredMessage>();
        var removed = 0;
        foreach (var (sequence, _, location, offset, length) in _ledger.PatientMessages(patientId, afterSequence))
        {
            if (!File.Exists(Path.Combine(_dataDirectory, location)))
            {
                // Bronze retention removed the file before a snapshot covered it (a patient idle since a crash, for
                // longer than bronze is kept). Silver still holds the messages; the grain goes on without them.
                removed++;
                continue;
            }

            var line = BronzeFiles.Read(_dataDirectory, location, offset, length);
            if (!BronzeRecord.TryParse(line, out var record))
            {
                throw new InvalidDataException($"Bronze line at {location}:{offset} is not a bronze record.");
            }

            stored.Add(new StoredMessage(sequence, record.ReceivedAt, record.Raw.ToArray()));
        }

        if (removed > 0)
        {
            LogReplayPastRetention(_logger, patientId, removed);
        }

        return stored;
    });

    private void Checkpoint()
    {
        try
        {
            _ledger.Checkpoint();
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            // Busy (the writer's own checkpoint is running): the next tick tries again.
        }
    }

    private void WriteLoop()
    {
        var group = new List<PendingAppend>();
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            group.Clear();
            var entries = 0;
            while (entries < _maxEntriesPerCommit && _queue.Reader.TryRead(out var pending))
            {
                group.Add(pending);
                entries += pending.Entries.Count;
            }

            try
            {
                var results = Commit(group);
                LastError = null;
                LastCommitAt = DateTimeOffset.UtcNow;
                for (var i = 0; i < group.Count; i++)
                {
                    group[i].Completion.SetResult(results[i]);
                }
            }
            catch (Exception e)
            {
                LastError = e;
                LogCommitFailed(_logger, e, entries);
                var failure = new JournalUnavailableException("The ingest journal could not make the messages durable.", e);
                foreach (var pending in group)
                {
                    pending.Completion.SetException(failure);
                }
            }
        }
    }

    private JournalAppend[][] Commit(List<PendingAppend> group)
    {
        using var transaction = _ledger.Begin();
        var generation = _ledger.NextGeneration();
        var counts = new Dictionary<(string Site, string Type, string Outcome), long>();
        var reasons = new Dictionary<(string Site, string Field, string Rule), long>();
        var results = new JournalAppend[group.Count][];

        for (var g = 0; g < group.Count; g++)
        {
            var entries = group[g].Entries;
            results[g] = new JournalAppend[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                var site = entry.SiteId ?? "unknown";
                var type = entry.PayloadType?.WireName() ?? "unknown";
                var (location, offset) = _bronze.Next(entry.Partition, entry.Line.Length);
                // The row goes in first: the ledger's unique message_id decides whether this is a duplicate (also of
                // an entry earlier in this commit), and a duplicate's line is never written.
                var sequence = entry.MessageId is null ? 0 : _ledger.Store(entry, location, offset, entry.Line.Length);
                if (entry.IsAccepted && sequence == 0)
                {
                    Increment(counts, (site, type, "duplicate"), 1);
                    results[g][i] = new JournalAppend(IngestStatus.Duplicate, null, generation, 0);
                    continue;
                }

                _bronze.Append(entry.Partition, entry.Line);
                if (entry.IsAccepted)
                {
                    Increment(counts, (site, type, "accepted"), 1);
                    if (entry.AbnormalFlags > 0)
                    {
                        Increment(counts, (site, type, "flagged"), entry.AbnormalFlags);
                    }
                }
                else
                {
                    Increment(counts, (site, type, "rejected"), 1);
                    foreach (var violation in entry.Violations)
                    {
                        Increment(reasons, (site, ViolationFields.WithoutListIndex(violation.Field), violation.Rule), 1);
                    }
                }

                results[g][i] = new JournalAppend(entry.IsAccepted ? IngestStatus.Accepted : IngestStatus.Rejected, location, generation, sequence);
            }
        }

        foreach (var ((site, type, outcome), n) in counts)
        {
            _ledger.AddCount(site, type, outcome, n);
        }

        foreach (var ((site, field, rule), n) in reasons)
        {
            _ledger.AddReason(site, field, rule, n);
        }

        // The transaction commits only after the lines are on disk: a committed row never points at missing bytes.
        _bronze.Sync();
        transaction.Commit();
        return results;
    }

    private static void Increment<TKey>(Dictionary<TKey, long> counts, TKey key, long n)
        where TKey : notnull =>
        counts[key] = counts.GetValueOrDefault(key) + n;

    /// <summary>Finishes every queued append, then closes the files.</summary>
    public void Dispose()
    {
        _checkpoints.Dispose();
        _queue.Writer.TryComplete();
        _writer.Join();
        _bronze.Dispose();
        _ledger.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Patient {PatientId}: {Count} journal messages to replay are in bronze files already removed by retention; the grain's state lacks them")]
    private static partial void LogReplayPastRetention(ILogger logger, string patientId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Journal commit of {Entries} entries failed; their requests are answered 503")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int entries);

    private sealed record PendingAppend(IReadOnlyList<JournalEntry> Entries, TaskCompletionSource<JournalAppend[]> Completion);
}

/// <summary>The journal could not make messages durable; nothing was acknowledged.</summary>
public sealed class JournalUnavailableException(string message, Exception? inner) : Exception(message, inner);
