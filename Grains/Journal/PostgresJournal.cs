using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The journal of the cluster profile: every silo's appends land in one PostgreSQL database, so an acknowledged
/// message survives the death of any silo (docs/cluster.md). As in the embedded journal, appends queue to one writer
/// per silo, which commits them together: one transaction, one WAL flush, then every append of the group is answered.
/// A row is the whole record (its bronze line included), so a commit is there or not: nothing to verify afterwards.
/// </summary>
public sealed partial class PostgresJournal : IIngestJournal, IAsyncDisposable
{
    private const short StatusAccepted = 1;
    private const short StatusRejected = 2;

    // A commit PostgreSQL ends as a deadlock victim rolled back whole, so running it again is safe; the rival has
    // committed or holds the ids by then, so a retry rarely meets another deadlock.
    private const int CommitAttempts = 3;

    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly NpgsqlDataSource _database;
    private readonly string _writer;
    private readonly int _maxEntriesPerCommit;
    private readonly ILogger<PostgresJournal> _logger;
    private readonly Task _writeLoop;
    private readonly ClinicalMetrics? _metrics;

    /// <summary>Entries appended and not yet taken into a commit (a single-reader channel does not count them).</summary>
    private long _queued;

    /// <param name="database">The cluster database, its schema applied (<see cref="Cluster.ClusterSchema"/>).</param>
    /// <param name="writer">This silo's name among the writers: stable across its restarts, unique among live silos.</param>
    /// <param name="maxEntriesPerCommit">Most entries one transaction commits.</param>
    /// <param name="logger">Commit failures.</param>
    /// <param name="metrics">Commit durations and sizes, and the queue's depth; journal tests without a silo pass none.</param>
    public PostgresJournal(NpgsqlDataSource database, string writer, int maxEntriesPerCommit, ILogger<PostgresJournal> logger, ClinicalMetrics? metrics = null)
    {
        _database = database;
        _writer = writer;
        _maxEntriesPerCommit = maxEntriesPerCommit;
        _logger = logger;
        _metrics = metrics;
        _metrics?.ObserveJournalQueue(() => Interlocked.Read(ref _queued));
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    public Exception? LastError { get; private set; }

    public DateTimeOffset? LastCommitAt { get; private set; }

    public Task<JournalAppend[]> AppendAsync(IReadOnlyList<JournalEntry> entries) =>
        entries.Count == 0 ? Task.FromResult(Array.Empty<JournalAppend>()) : ClinicalTracing.Traced("journal commit", entries.Count, Enqueue(entries));

    /// <summary>Commits a write of this writer's row in turn with the commits: the database takes writes now.</summary>
    public Task CheckWritableAsync() => Enqueue([]);

    public async Task CheckReadableAsync()
    {
        await using var command = _database.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync();
    }

    public async Task<MessageRecord?> FindAsync(Guid messageId)
    {
        // Its accepted row, else its latest rejection: each through its own index (journal_messages_by_id is unique
        // among accepted rows only).
        await using var command = _database.CreateCommand("""
            SELECT status, patient_id, site_id, payload_type, received_at, event_time, location, violations FROM (
                (SELECT status, patient_id, site_id, payload_type, received_at, event_time, location, violations::text
                 FROM journal_messages WHERE message_id = $1 AND status = 1)
                UNION ALL
                (SELECT status, patient_id, site_id, payload_type, received_at, event_time, location, violations::text
                 FROM journal_messages WHERE message_id = $1 AND status = 2 ORDER BY sequence DESC LIMIT 1)) found
            ORDER BY status LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = messageId });
        await using var row = await command.ExecuteReaderAsync();
        if (!await row.ReadAsync())
        {
            return null;
        }

        return new MessageRecord(
            messageId,
            row.GetInt16(0) == StatusAccepted ? IngestStatus.Accepted : IngestStatus.Rejected,
            row.IsDBNull(1) ? null : row.GetString(1),
            row.IsDBNull(2) ? null : row.GetString(2),
            row.IsDBNull(3) ? null : row.GetString(3),
            row.GetFieldValue<DateTimeOffset>(4),
            row.IsDBNull(5) ? null : row.GetFieldValue<DateTimeOffset>(5),
            row.GetString(6),
            row.IsDBNull(7) ? [] : JsonSerializer.Deserialize<List<Domain.Validation.Violation>>(row.GetString(7)) ?? []);
    }

    /// <summary>The counts summed over all writers, read in one snapshot.</summary>
    public async Task<CounterSnapshot> CountersAsync(string? siteId = null)
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        var filter = siteId is null ? "" : " WHERE site_id = $1";
        var counters = new List<CounterRow>();
        await ReadAsync(connection, $"SELECT site_id, payload_type, outcome, sum(n)::bigint FROM journal_counts{filter} GROUP BY 1, 2, 3", siteId,
            r => counters.Add(new CounterRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3))));
        var reasons = new List<ReasonRow>();
        await ReadAsync(connection, $"SELECT site_id, field, rule, sum(n)::bigint FROM journal_reasons{filter} GROUP BY 1, 2, 3", siteId,
            r => reasons.Add(new ReasonRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3))));
        await transaction.CommitAsync();
        return new CounterSnapshot(counters, reasons);
    }

    public async Task<IReadOnlyList<JournalPatient>> PatientsAsync(string? siteId, string afterPatientId, int limit)
    {
        await using var command = _database.CreateCommand(siteId is null
            ? """
              SELECT patient_id, array_agg(site_id ORDER BY site_id) FROM journal_patients
              WHERE patient_id > $2 GROUP BY patient_id ORDER BY patient_id LIMIT $3
              """
            : """
              SELECT patient_id, ARRAY[site_id] FROM journal_patients
              WHERE site_id = $1 AND patient_id > $2 ORDER BY patient_id LIMIT $3
              """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)siteId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = afterPatientId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var patients = new List<JournalPatient>();
        await using var row = await command.ExecuteReaderAsync();
        while (await row.ReadAsync())
        {
            patients.Add(new JournalPatient(row.GetString(0), row.GetFieldValue<string[]>(1)));
        }

        return patients;
    }

    public async Task<IReadOnlyDictionary<string, long>> PatientCountsAsync()
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var connection = await _database.OpenConnectionAsync();
        await ReadAsync(connection, "SELECT site_id, count(*) FROM journal_patients GROUP BY site_id", null, r => counts[r.GetString(0)] = r.GetInt64(1));
        return counts;
    }

    public async Task<List<StoredMessage>> ReadPatientAsync(string patientId, long afterSequence)
    {
        await using var command = _database.CreateCommand($"""
            SELECT sequence, line FROM journal_messages
            WHERE patient_id = $1 AND status = {StatusAccepted} AND sequence > $2 ORDER BY sequence
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = patientId });
        command.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        var stored = new List<StoredMessage>();
        await using var row = await command.ExecuteReaderAsync();
        while (await row.ReadAsync())
        {
            var line = row.GetFieldValue<byte[]>(1);
            if (!BronzeRecord.TryParse(line, out var record))
            {
                throw new InvalidDataException($"Journal row {row.GetInt64(0)} does not hold a bronze record.");
            }

            stored.Add(new StoredMessage(row.GetInt64(0), record.ReceivedAt, record.Raw.ToArray(), record.AcceptedUnder));
        }

        return stored;
    }

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

    private async Task WriteLoopAsync()
    {
        var group = new List<PendingAppend>();
        var probes = new List<PendingAppend>();
        while (await _queue.Reader.WaitToReadAsync())
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
                await RunCommitAsync(group, entries);
            }

            if (probes.Count > 0)
            {
                await RunProbeAsync(probes);
            }
        }
    }

    private async Task RunCommitAsync(List<PendingAppend> group, int entries)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var results = await CommitRetryingDeadlocksAsync(group);
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
            // The transaction rolled back, or (the connection broke during COMMIT) its outcome is unknown: either way
            // nothing is acknowledged, and a retry of a message that did commit is answered "duplicate".
            _metrics?.JournalCommitted(Stopwatch.GetElapsedTime(started), entries, succeeded: false);
            LastError = e;
            LogCommitFailed(_logger, e, entries);
            PostgresPool.ClearIfConnectionBroke(_database, e);
            var failure = new JournalUnavailableException("The ingest journal could not make the messages durable.", e);
            group.ForEach(pending => pending.Completion.SetException(failure));
        }
    }

    private async Task RunProbeAsync(List<PendingAppend> probes)
    {
        try
        {
            await using var command = _database.CreateCommand("""
                INSERT INTO journal_writers (writer, probed_at) VALUES ($1, now())
                ON CONFLICT (writer) DO UPDATE SET probed_at = excluded.probed_at
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = _writer });
            await command.ExecuteNonQueryAsync();
            probes.ForEach(probe => probe.Completion.SetResult([]));
        }
        catch (Exception e)
        {
            LogProbeFailed(_logger, e);
            PostgresPool.ClearIfConnectionBroke(_database, e);
            var failure = new JournalUnavailableException("The journal's database does not take writes.", e);
            probes.ForEach(probe => probe.Completion.SetException(failure));
        }
    }

    /// <summary>
    /// Two silos whose groups hold the same message_ids in different orders (a batch redelivered to both) each insert
    /// one id and wait on the other's: PostgreSQL aborts one. That group did nothing, so it is committed again rather
    /// than answered 503, which would refuse every unrelated message in it.
    /// </summary>
    private async Task<JournalAppend[][]> CommitRetryingDeadlocksAsync(List<PendingAppend> group)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CommitAsync(group);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < CommitAttempts)
            {
                LogDeadlockRetried(_logger, e, attempt);
            }
        }
    }

    private async Task<JournalAppend[][]> CommitAsync(List<PendingAppend> group)
    {
        var plan = CommitPlan.For(group);
        await using var connection = await _database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        // The unique indexes decide, across all silos, which rows are new: an accepted message_id, a rejection's key.
        var accepted = plan.Stored.Where(e => e.Entry.IsAccepted).ToList();
        var rejections = plan.Stored.Where(e => !e.Entry.IsAccepted).ToList();
        var acceptedSequences = new Dictionary<Guid, long>();
        var rejectionSequences = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (accepted.Count > 0)
            {
                batch.BatchCommands.Add(InsertCommand(accepted, "ON CONFLICT (message_id) WHERE status = 1 DO NOTHING RETURNING message_id, sequence"));
            }

            if (rejections.Count > 0)
            {
                batch.BatchCommands.Add(InsertCommand(rejections, "ON CONFLICT (digest) WHERE digest IS NOT NULL DO NOTHING RETURNING digest, sequence"));
            }

            await using var reader = await batch.ExecuteReaderAsync();
            if (accepted.Count > 0)
            {
                while (await reader.ReadAsync())
                {
                    acceptedSequences[reader.GetGuid(0)] = reader.GetInt64(1);
                }

                await reader.NextResultAsync();
            }

            while (rejections.Count > 0 && await reader.ReadAsync())
            {
                rejectionSequences[Convert.ToHexString(reader.GetFieldValue<byte[]>(0))] = reader.GetInt64(1);
            }
        }

        var changes = new CounterChanges();
        var results = group.Select(g => new JournalAppend[g.Entries.Count]).ToArray();
        foreach (var (entry, g, i, kind, rejectionKey) in plan.All)
        {
            var site = entry.SiteId ?? "unknown";
            var type = entry.PayloadType?.WireName() ?? "unknown";
            var sequence = kind != PlanKind.Stored ? 0
                : entry.IsAccepted ? acceptedSequences.GetValueOrDefault(entry.MessageId!.Value)
                : rejectionSequences.GetValueOrDefault(rejectionKey!);
            if (sequence == 0)
            {
                changes.Add(site, type, "duplicate", 1);
                results[g][i] = new JournalAppend(IngestStatus.Duplicate, null, 0);
                continue;
            }

            changes.AddStored(site, type, entry.IsAccepted, entry.AbnormalFlags, entry.Reasons);
            if (entry.IsAccepted)
            {
                changes.AddPatient(entry.PatientId, site, sequence);
            }

            results[g][i] = new JournalAppend(entry.IsAccepted ? IngestStatus.Accepted : IngestStatus.Rejected, entry.Partition, sequence);
        }

        await WriteCountsAsync(connection, transaction, changes);
        await transaction.CommitAsync();
        return results;
    }

    /// <summary>
    /// Inserts the rows in their order (their sequences follow it), those that <paramref name="onConflict"/> lets in;
    /// it returns the key and sequence of each row inserted.
    /// </summary>
    private static NpgsqlBatchCommand InsertCommand(IReadOnlyList<PlannedEntry> rows, string onConflict)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO journal_messages (message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, violations, line, digest)
            SELECT id, status, patient, site, type, received, event, location, violations::jsonb, line, digest
            FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) WITH ORDINALITY
                AS u (id, status, patient, site, type, received, event, location, violations, line, digest, ord)
            ORDER BY ord
            {onConflict}
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Entry.MessageId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Entry.IsAccepted ? StatusAccepted : StatusRejected).ToArray() });
        command.Parameters.Add(Texts(rows.Select(r => r.Entry.PatientId)));
        command.Parameters.Add(Texts(rows.Select(r => r.Entry.SiteId)));
        command.Parameters.Add(Texts(rows.Select(r => r.Entry.PayloadType?.WireName())));
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Entry.ReceivedAt.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Entry.EventTime?.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        command.Parameters.Add(Texts(rows.Select(r => r.Entry.Partition)));
        command.Parameters.Add(Texts(rows.Select(r => r.Entry.Reasons.Count == 0 ? null : JsonSerializer.Serialize(r.Entry.Reasons))));
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Entry.Line).ToArray() });
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = rows.Select(r => r.RejectionKey is null ? null : Convert.FromHexString(r.RejectionKey)).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
        });
        return command;
    }

    private static NpgsqlParameter Texts(IEnumerable<string?> values) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    /// <summary>
    /// Adds the commit's counts to this writer's rows, in key order (so two transactions never wait on each other in a
    /// cycle), in one round trip.
    /// </summary>
    private async Task WriteCountsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CounterChanges changes)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(AddToCounters("journal_counts", "payload_type", "outcome",
            [.. changes.Counts.OrderBy(c => c.Key).Select(c => (c.Key.Site, c.Key.Type, c.Key.Outcome, c.N))]));
        var reasons = changes.Reasons.OrderBy(r => r.Key).Select(r => (r.Key.Site, r.Key.Field, r.Key.Rule, r.N)).ToList();
        if (reasons.Count > 0)
        {
            batch.BatchCommands.Add(AddToCounters("journal_reasons", "field", "rule", reasons));
        }

        // In key order too; a pair another silo's commit is adding waits for that commit, a known pair costs one index probe.
        var patients = changes.Patients.Select(p => p.Key)
            .OrderBy(p => p.Patient, StringComparer.Ordinal).ThenBy(p => p.Site, StringComparer.Ordinal).ToList();
        if (patients.Count > 0)
        {
            var directory = new NpgsqlBatchCommand("""
                INSERT INTO journal_patients (patient_id, site_id)
                SELECT patient, site FROM unnest($1, $2) AS u (patient, site)
                ON CONFLICT DO NOTHING
                """);
            directory.Parameters.Add(Texts(patients.Select(p => p.Patient)));
            directory.Parameters.Add(Texts(patients.Select(p => p.Site)));
            batch.BatchCommands.Add(directory);
        }

        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>Adds each row's n to this writer's row of <paramref name="table"/> with the same site and two keys.</summary>
    private NpgsqlBatchCommand AddToCounters(string table, string firstKey, string secondKey, List<(string Site, string First, string Second, long N)> rows)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO {table} AS t (writer, site_id, {firstKey}, {secondKey}, n)
            SELECT $1, site, first_key, second_key, n FROM unnest($2, $3, $4, $5) AS u (site, first_key, second_key, n)
            ON CONFLICT (writer, site_id, {firstKey}, {secondKey}) DO UPDATE SET n = t.n + excluded.n
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = _writer });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Site).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.First).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Second).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.N).ToArray() });
        return command;
    }

    private static async Task ReadAsync(NpgsqlConnection connection, string sql, string? siteId, Action<NpgsqlDataReader> read)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (siteId is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = siteId });
        }

        await using var row = await command.ExecuteReaderAsync();
        while (await row.ReadAsync())
        {
            read(row);
        }
    }

    /// <summary>Answers every queued append, then stops the writer.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writeLoop;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Journal commit of {Entries} entries failed; their requests are answered 503")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int entries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journal commit attempt {Attempt} was a deadlock victim; committing it again")]
    private static partial void LogDeadlockRetried(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The journal's database does not take writes")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);

    private sealed record PendingAppend(IReadOnlyList<JournalEntry> Entries, TaskCompletionSource<JournalAppend[]> Completion);

    private enum PlanKind { Stored, Duplicate }

    /// <summary>One entry of a group: which group and index it came from, and a rejection's key (hex).</summary>
    private sealed record PlannedEntry(JournalEntry Entry, int Group, int Index, PlanKind Kind, string? RejectionKey);

    /// <summary>
    /// Which entries of a group may become rows, so that the group has the meaning of its entries applied one by one
    /// (as the embedded ledger applies them): the first accepted entry of each message_id and the first rejection of
    /// each key; a later one is a duplicate of it. Whether a row already holds the id or key the insert finds out.
    /// </summary>
    private sealed class CommitPlan
    {
        public List<PlannedEntry> All { get; } = [];

        public List<PlannedEntry> Stored => [.. All.Where(e => e.Kind == PlanKind.Stored)];

        public static CommitPlan For(List<PendingAppend> group)
        {
            var plan = new CommitPlan();
            var acceptedIds = new HashSet<Guid>();
            var rejectionKeys = new HashSet<string>(StringComparer.Ordinal);
            for (var g = 0; g < group.Count; g++)
            {
                for (var i = 0; i < group[g].Entries.Count; i++)
                {
                    var entry = group[g].Entries[i];
                    var rejectionKey = entry.IsAccepted ? null : Convert.ToHexString(entry.RejectionKey);
                    var first = rejectionKey is null ? acceptedIds.Add(entry.MessageId!.Value) : rejectionKeys.Add(rejectionKey);
                    plan.All.Add(new PlannedEntry(entry, g, i, first ? PlanKind.Stored : PlanKind.Duplicate, rejectionKey));
                }
            }

            return plan;
        }
    }
}
