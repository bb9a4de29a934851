using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ClinicalTrials.Lake.Retention;
using Microsoft.Extensions.Hosting;

namespace ClinicalTrials.Api.Security;

/// <summary>What an audit record says: who did what to which resource, with what outcome, from where; never patient values.</summary>
/// <param name="Actor">The key (<c>key:{id}</c>) or the token's subject.</param>
/// <param name="Action">What was done, e.g. <c>patient.read</c>, <c>model.promote</c>, <c>key.revoke</c>.</param>
/// <param name="Resource">What it was done to, by pseudonymous id or name (<c>patient/PT12AB34CD</c>).</param>
/// <param name="Outcome">The HTTP status, or <c>succeeded</c>/<c>failed</c>.</param>
/// <param name="Source">The client's address.</param>
/// <param name="Details">JSON: the before/after of a change, a reason; no patient values.</param>
public sealed record AuditEntry(string Actor, string Action, string? Resource, string Outcome, string? Source, string? Details);

/// <summary>One stored record: the entry, its place in the chain, when, and the chain's hashes.</summary>
public sealed record AuditRecord(
    long Seq, DateTimeOffset At, string Actor, string Action, string? Resource, string Outcome, string? Source, string? Details,
    string PrevHash, string Hash)
{
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>SHA-256 (hex) of every field and the previous record's hash, as a JSON array: any change to a record changes it.</summary>
    public static string HashOf(long seq, string at, string actor, string action, string? resource, string outcome, string? source, string? details, string prevHash)
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(new object?[] { seq, at, actor, action, resource, outcome, source, details, prevHash });
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }
}

/// <summary>
/// The result of re-computing the chain and checking its checkpoints: how many records are intact, how many checkpoints
/// were checked, the head, and the first problem found.
/// </summary>
public sealed record AuditVerification(bool Valid, long Records, long Checkpoints, long HeadSeq, string HeadHash, long? FirstBrokenSeq, string? Problem);

/// <summary>Filters of the auditors' query; each is optional.</summary>
public sealed record AuditQuery(DateTimeOffset? From, DateTimeOffset? To, string? Actor, string? Action, string? Resource, long AfterSeq, int Limit);

/// <summary>
/// The append-only, hash-chained audit trail (21 CFR Part 11 §11.10(e)). Each record carries the hash of the one
/// before it, and the head (last sequence and hash) is kept beside the records, so <see cref="VerifyAsync"/> finds a
/// record that was changed, removed, inserted or moved, and checks the signed checkpoints of <see cref="AuditCheckpoints"/>,
/// which show a chain rewritten consistently after a record. Appends are group-committed by one writer: every caller waits
/// until its record is committed (fsynced on SQLite), so an action is acknowledged only after its record is durable,
/// and callers arriving together share one commit. Nothing updates a record; only the retention job deletes the oldest
/// (<see cref="DeleteBeforeAsync"/>), leaving the hash of the last one deleted as the anchor the chain is verified from.
/// </summary>
public sealed class AuditTrail(AccessDatabase database, TimeProvider time) : BackgroundService, IAuditTrailRetention
{
    /// <summary>Who deletes records past their retention, as its own record names it.</summary>
    public const string RetentionActor = "system:retention";

    private const int MaxPerCommit = 1000;

    private readonly Channel<(AuditEntry Entry, TaskCompletionSource Done)> _pending =
        Channel.CreateUnbounded<(AuditEntry, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Completes once the record is durable; throws <see cref="AuditUnavailableException"/> when it could not be stored.</summary>
    public Task AppendAsync(AuditEntry entry)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((entry, done)))
        {
            done.SetException(new AuditUnavailableException("The audit trail is shutting down."));
        }

        return done.Task;
    }

    /// <summary>Appends <paramref name="entries"/> inside a write transaction the caller holds (a key change and its record commit together).</summary>
    public async Task AppendInAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        var (seq, prev) = await HeadAsync(connection, transaction, cancellationToken);
        var at = AccessDatabase.Time(time.GetUtcNow());
        // One statement, prepared once, for every record of the commit.
        await using var insert = connection.Command(transaction, """
            INSERT INTO audit_trail (seq, at, actor, action, resource, outcome, source, details, prev_hash, hash)
            VALUES (@seq, @at, @actor, @action, @resource, @outcome, @source, @details, @prev, @hash)
            """, ("@seq", 0L), ("@at", at), ("@actor", null), ("@action", null), ("@resource", null),
            ("@outcome", null), ("@source", null), ("@details", null), ("@prev", null), ("@hash", null));
        foreach (var e in entries)
        {
            seq++;
            var hash = AuditRecord.HashOf(seq, at, e.Actor, e.Action, e.Resource, e.Outcome, e.Source, e.Details, prev);
            object?[] values = [seq, at, e.Actor, e.Action, e.Resource, e.Outcome, e.Source, e.Details, prev, hash];
            for (var i = 0; i < values.Length; i++)
            {
                insert.Parameters[i].Value = values[i] ?? DBNull.Value;
            }

            await insert.ExecuteNonQueryAsync(cancellationToken);
            prev = hash;
        }

        await using var head = connection.Command(transaction, """
            INSERT INTO audit_head (id, seq, hash) VALUES (1, @seq, @hash)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
            """, ("@seq", seq), ("@hash", prev));
        await head.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes the records made before <paramref name="before"/> and keeps the last deleted record's sequence and hash as
    /// the anchor, so that the remaining chain still verifies from its first record; then records the deletion itself,
    /// all in one transaction.
    /// </summary>
    public async Task<long> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginWriteAsync(connection, cancellationToken);
        (long Seq, string Hash)? last = null;
        await using (var find = connection.Command(transaction,
            "SELECT seq, hash FROM audit_trail WHERE seq = (SELECT max(seq) FROM audit_trail WHERE at < @before)", ("@before", AccessDatabase.Time(before))))
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                last = (reader.GetInt64(0), reader.GetString(1));
            }
        }

        if (last is not { } anchor)
        {
            return 0;
        }

        await using var delete = connection.Command(transaction, "DELETE FROM audit_trail WHERE seq <= @seq", ("@seq", anchor.Seq));
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
        // A checkpoint vouches for the records up to it; those are gone. The first checkpoint after the anchor covers the
        // anchor and every record kept before it, so nothing the trail still holds loses its signature.
        await using var checkpoints = connection.Command(transaction, "DELETE FROM audit_checkpoint WHERE seq <= @seq", ("@seq", anchor.Seq));
        await checkpoints.ExecuteNonQueryAsync(cancellationToken);
        await using var keep = connection.Command(transaction, """
            INSERT INTO audit_anchor (id, seq, hash) VALUES (1, @seq, @hash)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash
            """, ("@seq", anchor.Seq), ("@hash", anchor.Hash));
        await keep.ExecuteNonQueryAsync(cancellationToken);
        await AppendInAsync(connection, transaction, [new AuditEntry(RetentionActor, "audit.retention", null, "succeeded", null,
            JsonSerializer.Serialize(new { deleted, through_seq = anchor.Seq, made_before = AccessDatabase.Time(before) }))], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(null, """
            SELECT seq, at, actor, action, resource, outcome, source, details, prev_hash, hash FROM audit_trail
            WHERE seq > @after AND (@from IS NULL OR at >= @from) AND (@to IS NULL OR at < @to)
              AND (@actor IS NULL OR actor = @actor) AND (@action IS NULL OR action = @action) AND (@resource IS NULL OR resource = @resource)
            ORDER BY seq LIMIT @limit
            """, ("@after", query.AfterSeq), ("@from", query.From is { } f ? AccessDatabase.Time(f) : null),
            ("@to", query.To is { } t ? AccessDatabase.Time(t) : null), ("@actor", query.Actor), ("@action", query.Action),
            ("@resource", query.Resource), ("@limit", query.Limit));
        var records = new List<AuditRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(Read(reader));
        }

        return records;
    }

    /// <summary>
    /// Re-computes every record's hash and link in order, compares the last with the stored head, and checks each
    /// checkpoint: signed by <paramref name="checkpointKey"/>, and naming the hash the chain has at its record.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(AuditCheckpointKey checkpointKey, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginSnapshotAsync(connection, cancellationToken);
        var (headSeq, headHash) = await HeadAsync(connection, transaction, cancellationToken);
        var (anchorSeq, anchorHash) = await AnchorAsync(connection, transaction, cancellationToken);
        var checkpoints = new Queue<AuditCheckpoint>(await AuditCheckpoints.ReadAllAsync(connection, transaction, cancellationToken));
        long records = 0, checkedCheckpoints = 0;
        AuditVerification Broken(long seq, string problem) => new(false, records, checkedCheckpoints, headSeq, headHash, seq, problem);

        // The retention job deletes checkpoints with the records they vouch for: one at or before the anchor was put back.
        if (checkpoints.TryPeek(out var early) && early.Seq <= anchorSeq)
        {
            return Broken(early.Seq,
                $"checkpoint at record {early.Seq}: does not match the chain (it starts after record {anchorSeq}, where the retention job deleted the records before)");
        }

        await using var command = connection.Command(transaction,
            "SELECT seq, at, actor, action, resource, outcome, source, details, prev_hash, hash FROM audit_trail ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var expected = anchorSeq + 1;
        var prev = anchorHash;
        while (await reader.ReadAsync(cancellationToken))
        {
            var r = Read(reader);
            var problem = r.Seq != expected
                ? $"record {expected} is missing (the next stored record is {r.Seq})"
                : r.PrevHash != prev
                    ? $"record {r.Seq} does not follow record {r.Seq - 1} (its prev_hash differs): a record was changed, removed or moved"
                    : AuditRecord.HashOf(r.Seq, AccessDatabase.Time(r.At), r.Actor, r.Action, r.Resource, r.Outcome, r.Source, r.Details, r.PrevHash) != r.Hash
                        ? $"record {r.Seq} was modified (its content does not match its hash)"
                        : null;
            if (problem is not null)
            {
                return Broken(Math.Min(r.Seq, expected), problem);
            }

            if (checkpoints.TryPeek(out var checkpoint) && checkpoint.Seq == r.Seq)
            {
                if (CheckpointProblem(checkpoints.Dequeue(), r.Hash, checkpointKey) is { } wrong)
                {
                    return Broken(r.Seq, wrong);
                }

                checkedCheckpoints++;
            }

            records++;
            expected++;
            prev = r.Hash;
        }

        if (expected - 1 != headSeq || prev != headHash)
        {
            return Broken(expected,
                $"the chain ends at record {expected - 1} but the head names record {headSeq}: records at the end were removed or the head was changed");
        }

        return checkpoints.TryPeek(out var beyond)
            ? Broken(beyond.Seq, $"checkpoint at record {beyond.Seq}: does not match the chain (it ends at record {headSeq}): records it signed were removed")
            : new AuditVerification(true, records, checkedCheckpoints, headSeq, headHash, null, null);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(AuditEntry Entry, TaskCompletionSource Done)>();
        // The writer keeps its connection between commits (opening one costs more than a small commit); after a failure
        // it opens a new one.
        DbConnection? connection = null;
        try
        {
            // Drain until the channel is completed at shutdown, so every record a caller waits for is written.
            while (await _pending.Reader.WaitToReadAsync(CancellationToken.None))
            {
                while (batch.Count < MaxPerCommit && _pending.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                try
                {
                    connection ??= await database.OpenAsync(CancellationToken.None);
                    await using var transaction = await database.BeginWriteAsync(connection);
                    await AppendInAsync(connection, transaction, [.. batch.Select(b => b.Entry)]);
                    await transaction.CommitAsync();
                    batch.ForEach(b => b.Done.SetResult());
                }
                catch (Exception e) when (e is DbException or IOException or InvalidOperationException)
                {
                    var failure = new AuditUnavailableException($"The audit record could not be stored: {e.Message}");
                    batch.ForEach(b => b.Done.SetException(failure));
                    await (connection?.DisposeAsync() ?? ValueTask.CompletedTask);
                    connection = null;
                }

                batch.Clear();
            }
        }
        finally
        {
            await (connection?.DisposeAsync() ?? ValueTask.CompletedTask);
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _pending.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    /// <summary>Why <paramref name="checkpoint"/> does not vouch for a chain whose record at its sequence has <paramref name="chainHash"/>, or null.</summary>
    private static string? CheckpointProblem(AuditCheckpoint checkpoint, string chainHash, AuditCheckpointKey key) =>
        !checkpoint.IsSignedBy(key)
            ? $"checkpoint at record {checkpoint.Seq}: signature invalid" +
              (key.Knows(checkpoint.KeyId) ? "" : $" (it names key {checkpoint.KeyId}, which is neither the configured key {key.KeyId} nor a trusted one)")
            : checkpoint.Hash != chainHash
                ? $"checkpoint at record {checkpoint.Seq}: does not match the chain (the record's hash differs from the one signed): records up to it were rewritten"
                : null;

    /// <summary>The last record appended: its sequence and hash (0 and the genesis hash while the trail is empty).</summary>
    internal static Task<(long Seq, string Hash)> HeadAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        ChainPointAsync(connection, transaction, "audit_head", cancellationToken);

    /// <summary>Where the stored chain starts: after the last record the retention job deleted, or at the beginning.</summary>
    private static Task<(long Seq, string Hash)> AnchorAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        ChainPointAsync(connection, transaction, "audit_anchor", cancellationToken);

    private static async Task<(long Seq, string Hash)> ChainPointAsync(DbConnection connection, DbTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(transaction, $"SELECT seq, hash FROM {table} WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditRecord.Genesis);
    }

    private static AuditRecord Read(DbDataReader r) => new(
        r.GetInt64(0), AccessDatabase.ParseTime(r.GetString(1)), r.GetString(2), r.GetString(3), r.NullableString(4), r.GetString(5),
        r.NullableString(6), r.NullableString(7), r.GetString(8), r.GetString(9));
}

/// <summary>An audit record could not be made durable, so the action it records is not acknowledged (503).</summary>
public sealed class AuditUnavailableException(string message) : Exception(message);
