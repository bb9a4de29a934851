using System.Text.Json;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Grains.Journal.Ledger;

/// <summary>
/// Reads of the ledger, each on a connection of its own from the pool, beside the writer (WAL mode lets them run while
/// a commit writes). Callers bound what they read by the sequence the journal knows to be durable.
/// </summary>
internal sealed class LedgerReader(string connectionString)
{
    /// <summary>The row of <paramref name="messageId"/> among the rows up to <paramref name="throughSequence"/>.</summary>
    public MessageRecord? Find(Guid messageId, long throughSequence)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = FindSql;
        command.Parameters.AddWithValue("$id", messageId.ToByteArray());
        command.Parameters.AddWithValue("$through", throughSequence);
        using var row = command.ExecuteReader();
        if (!row.Read())
        {
            return null;
        }

        var status = row.GetInt64(0) == LedgerSchema.StatusAccepted ? IngestStatus.Accepted : IngestStatus.Rejected;
        return new MessageRecord(
            messageId,
            status,
            row.IsDBNull(1) ? null : row.GetString(1),
            row.IsDBNull(2) ? null : row.GetString(2),
            row.IsDBNull(3) ? null : row.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(4)),
            row.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(5)),
            row.GetString(6),
            Violations(row, 7));
    }

    /// <summary>
    /// Looks a message_id up in each sequence block: its accepted row, else its latest rejection (a message_id may have
    /// several rejections beside its accepted row). The blocks must be the outer loop (CROSS JOIN keeps SQLite's planner
    /// from reordering it): with messages outside, SQLite scanned the whole table for a recent or unknown id, 25 ms at
    /// 165,000 rows.
    /// </summary>
    internal static readonly string FindSql = $"""
        WITH RECURSIVE blocks (block) AS (
            SELECT $through >> {MessageIdFilter.BlockShift}
            UNION ALL SELECT block - 1 FROM blocks WHERE block > 0)
        SELECT status, patient_id, site_id, payload_type, received_at, event_time, location, violations
        FROM blocks CROSS JOIN messages
        WHERE (seq >> {MessageIdFilter.BlockShift}) = block AND message_id = $id AND seq <= $through
        ORDER BY status = {LedgerSchema.StatusAccepted} DESC, seq DESC
        LIMIT 1
        """;

    /// <summary>Accepted messages of one patient after <paramref name="afterSequence"/> up to <paramref name="throughSequence"/>, in commit order.</summary>
    public List<LedgerLine> PatientMessages(string patientId, long afterSequence, long throughSequence)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();

        // One index seek per sequence block (65,536 rows) since the snapshot: one or two for a recent snapshot.
        command.CommandText = $"""
            SELECT seq, received_at, location, offset, length FROM messages
            WHERE (seq >> {MessageIdFilter.BlockShift}) = $block AND patient_id = $patient AND status = 1 AND seq > $after AND seq <= $through
            ORDER BY seq
            """;
        var block = command.Parameters.Add("$block", SqliteType.Integer);
        command.Parameters.AddWithValue("$patient", patientId);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$through", throughSequence);
        var result = new List<LedgerLine>();
        for (var b = afterSequence >> MessageIdFilter.BlockShift; b <= throughSequence >> MessageIdFilter.BlockShift; b++)
        {
            block.Value = b;
            using var row = command.ExecuteReader();
            ReadLines(row, result);
        }

        return result;
    }

    /// <summary>Up to <paramref name="limit"/> accepted messages of one payload type after <paramref name="afterSequence"/> up to <paramref name="throughSequence"/>, in commit order.</summary>
    public List<LedgerLine> AcceptedMessages(string payloadType, long afterSequence, long throughSequence, int limit)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();

        // A range of the primary key: the rows of other types in it are read and skipped.
        command.CommandText = """
            SELECT seq, received_at, location, offset, length FROM messages
            WHERE seq > $after AND seq <= $through AND status = 1 AND payload_type = $type
            ORDER BY seq LIMIT $limit
            """;
        command.Parameters.AddWithValue("$type", payloadType);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$through", throughSequence);
        command.Parameters.AddWithValue("$limit", limit);
        var result = new List<LedgerLine>();
        using var row = command.ExecuteReader();
        ReadLines(row, result);
        return result;
    }

    private static void ReadLines(SqliteDataReader row, List<LedgerLine> into)
    {
        while (row.Read())
        {
            into.Add(new LedgerLine(row.GetInt64(0), row.GetInt64(1), row.GetString(2), row.GetInt64(3), row.GetInt32(4)));
        }
    }

    /// <summary>Counters and reasons (of one site, or all) read in one transaction.</summary>
    public CounterSnapshot Counters(string? siteId)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        var filter = siteId is null ? "" : " WHERE site_id = $site";
        var counters = Query(connection, transaction, $"SELECT site_id, payload_type, outcome, count FROM counters{filter}", siteId,
            r => new CounterRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        var reasons = Query(connection, transaction, $"SELECT site_id, field, rule, count FROM rejection_reasons{filter}", siteId,
            r => new ReasonRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        transaction.Commit();
        return new CounterSnapshot(counters, reasons);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> patients with accepted messages (of <paramref name="siteId"/>, or of any site) whose
    /// id sorts after <paramref name="afterPatientId"/>, in id order, counting only pairs first seen up to
    /// <paramref name="throughSequence"/>.
    /// </summary>
    public List<JournalPatient> Patients(string? siteId, string afterPatientId, int limit, long throughSequence)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        // Each a range of an index in patient id order: patients_by_site for one site, the primary key for all.
        command.CommandText = siteId is null
            ? """
              SELECT patient_id, group_concat(site_id, ' ') FROM patients
              WHERE patient_id > $after AND first_seq <= $through GROUP BY patient_id ORDER BY patient_id LIMIT $limit
              """
            : """
              SELECT patient_id, site_id FROM patients
              WHERE site_id = $site AND patient_id > $after AND first_seq <= $through ORDER BY patient_id LIMIT $limit
              """;
        command.Parameters.AddWithValue("$site", (object?)siteId ?? DBNull.Value);
        command.Parameters.AddWithValue("$after", afterPatientId);
        command.Parameters.AddWithValue("$through", throughSequence);
        command.Parameters.AddWithValue("$limit", limit);
        using var row = command.ExecuteReader();
        var result = new List<JournalPatient>();
        while (row.Read())
        {
            result.Add(new JournalPatient(row.GetString(0), [.. row.GetString(1).Split(' ').Order(StringComparer.Ordinal)]));
        }

        return result;
    }

    /// <summary>How many patients each site has accepted messages for, counting pairs first seen up to <paramref name="throughSequence"/>.</summary>
    public Dictionary<string, long> PatientCounts(long throughSequence)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT site_id, count(*) FROM patients WHERE first_seq <= $through GROUP BY site_id";
        command.Parameters.AddWithValue("$through", throughSequence);
        using var row = command.ExecuteReader();
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        while (row.Read())
        {
            result[row.GetString(0)] = row.GetInt64(1);
        }

        return result;
    }

    /// <summary>
    /// Rows not yet known to have their bronze lines on disk: those of the last commits before the process stopped.
    /// The ledger and the bronze files are synced at the same time, so after a power loss such a row may point at
    /// bytes that never reached the disk (its message was never acknowledged).
    /// </summary>
    public List<LedgerRow> Unverified()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT seq, status, site_id, payload_type, location, offset, length, flags, violations FROM messages
            WHERE seq > (SELECT value FROM meta WHERE key = 'verified_through') ORDER BY seq
            """;
        using var row = command.ExecuteReader();
        var result = new List<LedgerRow>();
        while (row.Read())
        {
            result.Add(new LedgerRow(
                row.GetInt64(0),
                row.GetInt64(1) == LedgerSchema.StatusAccepted,
                row.IsDBNull(2) ? "unknown" : row.GetString(2),
                row.IsDBNull(3) ? "unknown" : row.GetString(3),
                row.GetString(4),
                row.GetInt64(5),
                row.GetInt32(6),
                row.GetInt32(7),
                Violations(row, 8)));
        }

        return result;
    }

    /// <summary>
    /// Copies committed WAL frames into the database file from a connection beside the writer. The writer's own
    /// automatic checkpoint, which runs inside a commit and so delays every acknowledgement waiting on it, then finds
    /// little left to copy.
    /// </summary>
    public void Checkpoint()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        command.ExecuteNonQuery();
    }

    public bool CanRead()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        return command.ExecuteScalar() is 1L;
    }

    private static IReadOnlyList<Violation> Violations(SqliteDataReader row, int column) =>
        row.IsDBNull(column) ? [] : JsonSerializer.Deserialize<List<Violation>>(row.GetString(column)) ?? [];

    private static List<T> Query<T>(SqliteConnection connection, SqliteTransaction transaction, string sql, string? siteId, Func<SqliteDataReader, T> map)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        if (siteId is not null)
        {
            command.Parameters.AddWithValue("$site", siteId);
        }

        using var row = command.ExecuteReader();
        var result = new List<T>();
        while (row.Read())
        {
            result.Add(map(row));
        }

        return result;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }
}

/// <summary>Where a stored message's bronze line is: the row's sequence, receipt time (Unix ms) and byte range.</summary>
internal sealed record LedgerLine(long Sequence, long ReceivedAt, string Location, long Offset, int Length);

/// <summary>What <see cref="LedgerRecovery.Forget"/> needs of a row to take it out of the ledger and its counters.</summary>
internal sealed record LedgerRow(
    long Sequence, bool IsAccepted, string SiteId, string PayloadType, string Location, long Offset, int Length, int Flags, IReadOnlyList<Violation> Violations);
