using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal.Ledger;
using ClinicalTrials.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Journal;

/// <summary>Where the silo keeps its state (the embedded default).</summary>
public sealed class JournalOptions
{
    public const string Section = "Journal";

    /// <summary>Root of the data directory: bronze, quarantine, the ledger and grain state live under it.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Most entries made durable by one commit (one round of fsyncs, all run at the same time).</summary>
    public int MaxEntriesPerCommit { get; set; } = 20_000;
}

/// <summary>
/// The durable record of every received message. Appends from all grains and requests are queued and made durable
/// together by one writer (group commit): bronze/quarantine lines are written and the ledger rows and counters
/// committed in one SQLite transaction, then every touched bronze file and the ledger's WAL are fsynced at once. An
/// append completes only after all these syncs, so whatever a caller acknowledges has survived the process and the
/// machine.
/// <para>
/// Syncing them all at once shortens the wait, but a power loss during the syncs may keep ledger rows whose bronze
/// lines were lost. Every commit therefore records in the ledger how far the rows are verified (the previous commit's),
/// and opening the journal removes the rows after that point whose lines are not on disk (<see cref="Recover"/>).
/// </para>
/// <para>
/// A commit that fails at any step (a full disk, an I/O error) leaves nothing behind that could later be taken for
/// stored: its bronze lines are cut off again and its ledger rows rolled back or taken back. Until both have succeeded
/// no further commit starts (every append fails, 503), so the verified point never falls behind an acknowledged
/// commit; each later append, and each health probe (<see cref="CheckWritableAsync"/>), tries the repair again.
/// Readers see only the rows of completed commits.
/// </para>
/// </summary>
public sealed partial class IngestJournal : IIngestJournal, IJournalTail, IDisposable
{
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>What a probe writes: more than one small commit needs, so a disk that takes it takes commits too.</summary>
    private const int ProbeBytes = 256 * 1024;

    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _dataDirectory;
    private readonly int _maxEntriesPerCommit;
    private readonly ILogger<IngestJournal> _logger;
    private readonly LedgerWriter _ledger;
    private readonly LedgerReader _ledgerReader;
    private readonly BronzeFiles _bronze;
    private readonly FileSyncWorkers _bronzeSync;
    private readonly Thread _writer;
    private readonly Timer _checkpoints;
    private readonly JournalFaults _faults;
    private readonly ClinicalMetrics? _metrics;

    /// <summary>Entries appended and not yet taken into a commit (a single-reader channel does not count them).</summary>
    private long _queued;

    /// <summary>
    /// Every ledger row up to this sequence belongs to a completed commit and has its bronze line on disk; readers on
    /// other threads see only these rows.
    /// </summary>
    private long _verifiedThrough;

    /// <summary>
    /// The counts of a commit that failed after its rows were committed, while its rows are not yet removed (no commit
    /// may start meanwhile); null when nothing is to be taken back.
    /// </summary>
    private CounterChanges? _takeBack;

    private int _disposed;

    /// <summary>Opens the journal in the configured data directory, recovering from an earlier run's last commit.</summary>
    /// <param name="options">Where the data directory is.</param>
    /// <param name="logger">Commit failures and recoveries.</param>
    /// <param name="faults">Only fault-injection tests pass one.</param>
    /// <param name="metrics">Commit durations and sizes, and the queue's depth; journal tests without a silo pass none.</param>
    public IngestJournal(IOptions<JournalOptions> options, ILogger<IngestJournal> logger, JournalFaults? faults = null, ClinicalMetrics? metrics = null)
    {
        _dataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        _maxEntriesPerCommit = options.Value.MaxEntriesPerCommit;
        _logger = logger;
        _faults = faults ?? JournalFaults.None;
        _metrics = metrics;
        Directory.CreateDirectory(_dataDirectory);
        _ledger = new LedgerWriter(Path.Combine(_dataDirectory, "ledger.db"));
        _ledgerReader = new LedgerReader(_ledger.ConnectionString);
        _bronze = new BronzeFiles(_dataDirectory);
        _verifiedThrough = Recover();
        _bronzeSync = new FileSyncWorkers(4, "ingest-journal-sync", _faults); // its threads start only once opening has succeeded
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "ingest-journal" };
        _writer.Start();
        _checkpoints = new Timer(_ => Checkpoint(), null, CheckpointInterval, CheckpointInterval);
        _metrics?.ObserveJournalQueue(() => Interlocked.Read(ref _queued));
    }

    public string DataDirectory => _dataDirectory;

    public Exception? LastError { get; private set; }

    public DateTimeOffset? LastCommitAt { get; private set; }

    /// <summary>Makes <paramref name="entries"/> durable; the results are in the same order.</summary>
    /// <exception cref="JournalUnavailableException">The commit failed (for example, the disk is full).</exception>
    public Task<JournalAppend[]> AppendAsync(IReadOnlyList<JournalEntry> entries)
    {
        if (entries.Count == 0)
        {
            return Task.FromResult(Array.Empty<JournalAppend>());
        }

        return ClinicalTracing.Traced("journal commit", entries.Count, Enqueue(entries));
    }

    /// <summary>
    /// Checks, in turn with the commits, that the data directory takes writes: repairs what a failed commit left
    /// (see the class remarks), then writes and fsyncs a probe file. A journal that failed on a full disk passes it as
    /// soon as space returns, without waiting for traffic; <see cref="LastError"/> stays until a commit succeeds.
    /// </summary>
    /// <exception cref="JournalUnavailableException">The data directory does not take writes.</exception>
    public Task CheckWritableAsync() => Enqueue([]);

    private Task<JournalAppend[]> Enqueue(IReadOnlyList<JournalEntry> entries)
    {
        var pending = new PendingAppend(entries, new TaskCompletionSource<JournalAppend[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        Interlocked.Add(ref _queued, entries.Count);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _queued, -entries.Count);
            throw new JournalUnavailableException("The ingest journal is shutting down.", null);
        }

        return pending.Completion.Task;
    }

    public Task<MessageRecord?> FindAsync(Guid messageId) => Task.Run(() => _ledgerReader.Find(messageId, Volatile.Read(ref _verifiedThrough)));

    public Task<CounterSnapshot> CountersAsync(string? siteId = null) => Task.Run(() => _ledgerReader.Counters(siteId));

    public Task CheckReadableAsync() => Task.Run(_ledgerReader.CanRead);

    public Task<IReadOnlyList<JournalPatient>> PatientsAsync(string? siteId, string afterPatientId, int limit) => Task.Run<IReadOnlyList<JournalPatient>>(() =>
        _ledgerReader.Patients(siteId, afterPatientId, limit, Volatile.Read(ref _verifiedThrough)));

    public Task<IReadOnlyDictionary<string, long>> PatientCountsAsync() => Task.Run<IReadOnlyDictionary<string, long>>(() =>
        _ledgerReader.PatientCounts(Volatile.Read(ref _verifiedThrough)));

    /// <summary>A patient's accepted messages committed after <paramref name="afterSequence"/>, as received.</summary>
    public Task<List<StoredMessage>> ReadPatientAsync(string patientId, long afterSequence) => Task.Run(() =>
        ReadStored(_ledgerReader.PatientMessages(patientId, afterSequence, Volatile.Read(ref _verifiedThrough)), patientId));

    /// <inheritdoc/>
    public Task<List<StoredMessage>> ReadAcceptedAsync(PayloadType type, long afterSequence, int limit) => Task.Run(() =>
        ReadStored(_ledgerReader.AcceptedMessages(type.WireName(), afterSequence, Volatile.Read(ref _verifiedThrough), limit), null));

    private List<StoredMessage> ReadStored(List<LedgerLine> rows, string? patientId)
    {
        var stored = new List<StoredMessage>();
        var removed = 0;
        foreach (var (sequence, _, location, offset, length) in rows)
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

            stored.Add(new StoredMessage(sequence, record.ReceivedAt, record.Raw.ToArray(), record.AcceptedUnder));
        }

        if (removed > 0)
        {
            LogReplayPastRetention(_logger, patientId ?? "(journal tail)", removed);
        }

        return stored;
    }

    private void Checkpoint()
    {
        try
        {
            _ledgerReader.Checkpoint();
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            // Busy (the writer's own checkpoint is running): the next tick tries again.
        }
    }

    private void WriteLoop()
    {
        var group = new List<PendingAppend>();
        var probes = new List<PendingAppend>();
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            group.Clear();
            probes.Clear();
            var entries = 0;
            while (entries < _maxEntriesPerCommit && _queue.Reader.TryRead(out var pending))
            {
                (pending.Entries.Count == 0 ? probes : group).Add(pending);
                entries += pending.Entries.Count;
            }

            Interlocked.Add(ref _queued, -entries);

            if (group.Count > 0)
            {
                RunCommit(group, entries);
            }

            if (probes.Count > 0)
            {
                RunProbe(probes);
            }
        }
    }

    private void RunCommit(List<PendingAppend> group, int entries)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var results = Commit(group);
            _metrics?.JournalCommitted(Stopwatch.GetElapsedTime(started), entries, succeeded: true);
            LastError = null;
            LastCommitAt = DateTimeOffset.UtcNow;
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Completion.SetResult(results[i]);
            }
        }
        catch (Exception e)
        {
            _metrics?.JournalCommitted(Stopwatch.GetElapsedTime(started), entries, succeeded: false);
            LastError = e;
            LogCommitFailed(_logger, e, entries);
            Fail(group, new JournalUnavailableException("The ingest journal could not make the messages durable.", e));
        }
    }

    private void RunProbe(List<PendingAppend> probes)
    {
        try
        {
            Probe();
            probes.ForEach(probe => probe.Completion.SetResult([]));
        }
        catch (Exception e)
        {
            LogProbeFailed(_logger, e);
            Fail(probes, new JournalUnavailableException("The ingest journal cannot write to its data directory.", e));
        }
    }

    private static void Fail(List<PendingAppend> group, JournalUnavailableException failure)
    {
        foreach (var pending in group)
        {
            pending.Completion.SetException(failure);
        }
    }

    /// <summary>Repairs what a failed commit left, then writes and fsyncs a probe file.</summary>
    private void Probe()
    {
        Repair();
        var path = Path.Combine(_dataDirectory, ".journal-probe");
        try
        {
            using var probe = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
            probe.Write(new byte[ProbeBytes]);
            probe.Flush(flushToDisk: true);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Removes the unverified ledger rows whose bronze lines did not reach the disk (a power loss during the last
    /// commit's syncs: those messages were never acknowledged); returns the sequence every row is now verified to.
    /// </summary>
    private long Recover()
    {
        var lost = _ledgerReader.Unverified().Where(row => !BronzeFiles.Holds(_dataDirectory, row.Location, row.Offset + row.Length)).ToList();
        if (lost.Count > 0)
        {
            LogLostRowsRemoved(_logger, lost.Count);
        }

        return LedgerRecovery.Forget(_ledger, lost);
    }

    private JournalAppend[][] Commit(List<PendingAppend> group)
    {
        Repair();
        var results = new JournalAppend[group.Count][];
        long lastSequence;
        CounterChanges changes;
        try
        {
            using var transaction = _ledger.Begin();
            _ledger.MarkVerified(_verifiedThrough); // the previous commit's syncs completed before this one began
            (lastSequence, changes) = AddRows(group, results);
            _bronzeSync.Start(_bronze.Dirty);
            _faults.At(CommitStep.LedgerCommit);
            transaction.Commit();
        }
        catch
        {
            // The transaction rolled back, so no row refers to the lines: wait for their writes, then cut them off.
            _bronzeSync.Wait();
            _bronze.Abandon();
            throw;
        }

        // The bronze writes and fsyncs have been running since Start; the ledger's runs beside them.
        var walError = Capture(() =>
        {
            _faults.At(CommitStep.WalSync);
            _ledger.SyncWal();
        });
        var bronzeError = _bronzeSync.Wait();
        if ((walError ?? bronzeError) is { } error)
        {
            // Answered as failed, so neither its lines nor its rows may stay: a retry would otherwise be called a
            // duplicate of a message that may not be on disk, and silver would read lines the client was told are not.
            _bronze.Abandon();
            _takeBack = changes;
            TryTakeBack();
            ExceptionDispatchInfo.Throw(error);
        }

        _bronze.Committed();
        Volatile.Write(ref _verifiedThrough, Math.Max(_verifiedThrough, lastSequence));
        return results;
    }

    /// <summary>Finishes what a failed commit could not: cuts its bronze lines off and takes its rows back.</summary>
    private void Repair()
    {
        _faults.At(CommitStep.Repair);
        _bronze.Repair();
        if (_takeBack is not null)
        {
            TakeBack(_takeBack);
        }
    }

    private void TryTakeBack()
    {
        try
        {
            TakeBack(_takeBack!);
        }
        catch (Exception e)
        {
            LogTakeBackFailed(_logger, e);
        }
    }

    /// <summary>
    /// Removes the rows of the commit whose syncs failed (the only unverified ones: no commit ran after it), then
    /// checkpoints the whole WAL into the database file: after a failed fsync the kernel may never write the WAL's
    /// earlier pages, and a hole in the WAL would lose every commit after it at the next recovery.
    /// </summary>
    private void TakeBack(CounterChanges commit)
    {
        _faults.At(CommitStep.TakeBack);
        Volatile.Write(ref _verifiedThrough, LedgerRecovery.Forget(_ledger, _ledgerReader.Unverified(), commit.DuplicatesTakenBack()));
        _takeBack = new CounterChanges(); // the rows and counts are gone; a retry only checkpoints
        _ledger.CheckpointFully();
        _takeBack = null;
    }

    /// <summary>Writes the group's rows and lines and counts them; returns the highest sequence written and the counts.</summary>
    private (long LastSequence, CounterChanges Changes) AddRows(List<PendingAppend> group, JournalAppend[][] results)
    {
        var changes = new CounterChanges();
        var lastSequence = 0L;
        for (var g = 0; g < group.Count; g++)
        {
            var entries = group[g].Entries;
            results[g] = new JournalAppend[entries.Count];
            for (var i = 0; i < entries.Count; i++)
            {
                var entry = entries[i];
                var site = entry.SiteId ?? "unknown";
                var type = entry.PayloadType?.WireName() ?? "unknown";
                var partition = entry.Partition; // formatted from the entry's time on each read
                var (location, offset) = _bronze.Next(partition, entry.Line.Length);
                _faults.At(CommitStep.LedgerWrite);
                // The row goes in first: the ledger decides whether the message is a repeat (its message_id accepted,
                // or the same bytes quarantined, also by an entry earlier in this commit), and a repeat's line is never written.
                var sequence = _ledger.Store(entry, location, offset, entry.Line.Length);
                if (sequence == 0)
                {
                    changes.Add(site, type, "duplicate", 1);
                    results[g][i] = new JournalAppend(IngestStatus.Duplicate, null, 0);
                    continue;
                }

                lastSequence = Math.Max(lastSequence, sequence);
                _bronze.Append(partition, entry.Line);
                changes.AddStored(site, type, entry.IsAccepted, entry.AbnormalFlags, entry.Reasons);
                if (entry.IsAccepted)
                {
                    changes.AddPatient(entry.PatientId, site, sequence);
                }

                results[g][i] = new JournalAppend(entry.IsAccepted ? IngestStatus.Accepted : IngestStatus.Rejected, location, sequence);
            }
        }

        changes.WriteTo(_ledger);
        return (lastSequence, changes);
    }

    private static Exception? Capture(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Finishes every queued append, then closes the files. The container disposes it once per service it is registered as.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _checkpoints.Dispose();
        _queue.Writer.TryComplete();
        _writer.Join();
        _bronzeSync.Dispose();
        _bronze.Dispose();
        _ledger.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Patient {PatientId}: {Count} journal messages to replay are in bronze files already removed by retention; the grain's state lacks them")]
    private static partial void LogReplayPastRetention(ILogger logger, string patientId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Count} ledger rows whose bronze lines did not reach the disk before the process stopped; their messages were never acknowledged")]
    private static partial void LogLostRowsRemoved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The rows of a commit that could not be synced could not be removed yet; no commit starts until they are")]
    private static partial void LogTakeBackFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Journal commit of {Entries} entries failed; their requests are answered 503")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int entries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The journal's data directory does not take writes")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);

    private sealed record PendingAppend(IReadOnlyList<JournalEntry> Entries, TaskCompletionSource<JournalAppend[]> Completion);
}

/// <summary>The journal could not make messages durable; nothing was acknowledged.</summary>
public sealed class JournalUnavailableException(string message, Exception? inner) : Exception(message, inner);
