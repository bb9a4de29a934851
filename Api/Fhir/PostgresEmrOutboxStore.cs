using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Journal;
using Npgsql;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// The EMR outbox of the cluster profile, on the cluster database (schema script 010). One silo delivers at a time: the
/// one whose session holds the sender's advisory lock; when that silo dies its session ends, the lock is released and
/// another silo's outbox takes over from the durable position (a result the dead silo sent but had not recorded is sent
/// again, which the conditional create makes harmless). Every read and write runs on the session that holds the lock,
/// so a silo that lost it can no longer move the position. The journal is read in the order of the transactions that
/// wrote it (<c>committed_in</c>, then sequence), up to the oldest transaction still running: a prefix that never grows.
/// </summary>
internal sealed class PostgresEmrOutboxStore(string connectionString, TimeSpan retryInterval, TimeProvider time) : IEmrOutboxStore
{
    // Any constant works, as long as nothing else in the cluster database takes the same advisory lock.
    private const long SenderLock = 0x456D724F7574626F;

    /// <summary>Who delivers, in the audit rows and as the session's application name (pg_stat_activity).</summary>
    public static readonly string Sender = $"{Environment.MachineName}:{Environment.ProcessId}";

    private readonly Dictionary<long, long> _committedIn = [];
    private NpgsqlConnection? _session;
    private (long CommittedIn, long Sequence) _deliveredThrough;

    public async Task WaitForTurnAsync(CancellationToken cancellationToken)
    {
        if (_session is not null)
        {
            return;
        }

        // A session of its own, outside the pools: the lock lives as long as this connection. The server's keep-alives
        // and user timeout end the session of a silo that vanished without closing it within about half a minute, so
        // that another can take over (left to the operating system's defaults it would take hours).
        var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            KeepAlive = 10,
            Options = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000",
            ApplicationName = $"clinicaltrials-emr-outbox {Sender}",
        }.ConnectionString);
        try
        {
            await session.OpenAsync(cancellationToken);
            while (!await ScalarAsync<bool>(session, "SELECT pg_try_advisory_lock($1)", cancellationToken, SenderLock))
            {
                await Task.Delay(retryInterval, time, cancellationToken);
            }

            await using (var cursor = new NpgsqlCommand("SELECT committed_in, sequence FROM emr_outbox_cursor WHERE id = 1", session))
            await using (var row = await cursor.ExecuteReaderAsync(cancellationToken))
            {
                await row.ReadAsync(cancellationToken);
                _deliveredThrough = (row.GetInt64(0), row.GetInt64(1));
            }

            // Transaction ids are one server's: a logical dump restored into a new server brings rows and a position with
            // ids that server has not reached, and every new row would sort before the position and never be sent.
            var next = await ScalarAsync<long>(session, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint", cancellationToken);
            if (_deliveredThrough.CommittedIn >= next)
            {
                throw new InvalidOperationException(
                    $"emr_outbox_cursor is at transaction {_deliveredThrough.CommittedIn}, which this server has not reached ({next}): the database was " +
                    "restored from a logical dump. Reset the outbox's order as docs/fhir.md says (results are sent again and answered as existing).");
            }

            _session = session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    public async Task<IReadOnlyList<StoredMessage>> NextAsync(int limit, CancellationToken cancellationToken)
    {
        var session = _session ?? throw new InvalidOperationException("Not this silo's turn: WaitForTurnAsync first.");
        // The horizon is read before the rows, in a statement of its own: every transaction below it has ended before the
        // rows' snapshot is taken, so none of their rows can be missing from it.
        var horizon = await ScalarAsync<long>(session, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", cancellationToken);
        await using var command = new NpgsqlCommand($"""
            SELECT committed_in, sequence, line FROM journal_messages
            WHERE status = 1 AND payload_type = '{PayloadType.LabResults.WireName()}'
              AND (committed_in, sequence) > ($1, $2) AND committed_in < $3
            ORDER BY committed_in, sequence LIMIT $4
            """, session);
        command.Parameters.Add(new NpgsqlParameter { Value = _deliveredThrough.CommittedIn });
        command.Parameters.Add(new NpgsqlParameter { Value = _deliveredThrough.Sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = horizon });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var messages = new List<StoredMessage>();
        _committedIn.Clear();
        await using var row = await command.ExecuteReaderAsync(cancellationToken);
        while (await row.ReadAsync(cancellationToken))
        {
            var sequence = row.GetInt64(1);
            if (!BronzeRecord.TryParse(row.GetFieldValue<byte[]>(2), out var record))
            {
                throw new InvalidDataException($"Journal row {sequence} does not hold a bronze record.");
            }

            _committedIn[sequence] = row.GetInt64(0);
            messages.Add(new StoredMessage(sequence, record.ReceivedAt, record.Raw.ToArray(), record.AcceptedUnder));
        }

        await row.CloseAsync();
        HeldBack = messages.Count == limit ? 0 : await ScalarAsync<long>(session, $"""
            SELECT count(*) FROM journal_messages
            WHERE status = 1 AND payload_type = '{PayloadType.LabResults.WireName()}' AND (committed_in, sequence) > ($1, $2) AND committed_in >= $3
            """, cancellationToken, _deliveredThrough.CommittedIn, _deliveredThrough.Sequence, horizon);
        return messages;
    }

    public long HeldBack { get; private set; }

    public async Task RecordAsync(StoredMessage message, IReadOnlyList<EmrDelivery> deliveries, CancellationToken cancellationToken)
    {
        var session = _session ?? throw new InvalidOperationException("Not this silo's turn: WaitForTurnAsync first.");
        var position = (_committedIn[message.Sequence], message.Sequence);
        await using var batch = new NpgsqlBatch(session);
        foreach (var d in deliveries)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO emr_deliveries (journal_sequence, message_id, result_index, outcome, http_status, attempts, delivered_at, sender)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, message.Sequence, d.MessageId, d.ResultIndex, d.Outcome, (object?)d.HttpStatus ?? DBNull.Value, d.Attempts, d.At, Sender));
        }

        batch.BatchCommands.Add(Command("UPDATE emr_outbox_cursor SET committed_in = $1, sequence = $2 WHERE id = 1", position.Item1, position.Item2));
        // A batch runs as one implicit transaction: the audit rows and the position commit together or not at all.
        await batch.ExecuteNonQueryAsync(cancellationToken);
        _deliveredThrough = position;
    }

    public async ValueTask ResetAsync()
    {
        if (_session is not null)
        {
            await _session.DisposeAsync(); // ends the session, and with it the lock
            _session = null;
        }
    }

    public ValueTask DisposeAsync() => ResetAsync();

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection session, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, session);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
