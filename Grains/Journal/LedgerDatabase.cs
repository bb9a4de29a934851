using System.Text;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The journal's index, an embedded SQLite database in WAL mode: one row per message_id with its status and bronze
/// location, and the counters behind the stats. Written only by the journal's commit loop. A commit only writes the
/// WAL; the journal makes it durable with <see cref="SyncWal"/>, beside the fsync of the bronze lines.
/// </summary>
internal sealed class LedgerDatabase : IDisposable
{
    private const int StatusAccepted = 1;
    private const int StatusRejected = 2;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly sqlite3_stmt _upsert;
    private readonly SqliteCommand _count;
    private readonly SqliteCommand _reason;
    private readonly SqliteCommand _generation;
    private readonly SqliteCommand _verifiedThrough;
    private readonly FileStream _wal;

    public LedgerDatabase(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute("""
            PRAGMA journal_mode = WAL;
            -- Commits write the WAL without syncing it; SyncWal does, at the same time as the bronze files are synced.
            PRAGMA synchronous = NORMAL;
            -- Random UUID keys touch index pages all over the file; a larger page cache keeps inserts off the disk.
            PRAGMA cache_size = -131072;
            -- The journal's timer checkpoints every 200 ms from another connection. The writer's own checkpoint, which
            -- runs inside a commit and delays every acknowledgement waiting on it, is only the backstop (40 MB of WAL):
            -- at the default 1,000 pages it still ran inside commits on a large ledger.
            PRAGMA wal_autocheckpoint = 10000;
            CREATE TABLE IF NOT EXISTS messages (
                seq INTEGER PRIMARY KEY,
                message_id BLOB NOT NULL UNIQUE,
                status INTEGER NOT NULL,
                patient_id TEXT, site_id TEXT, payload_type TEXT,
                received_at INTEGER NOT NULL, event_time INTEGER,
                location TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
                violations TEXT, flags INTEGER NOT NULL DEFAULT 0);
            -- A patient's rows, grouped by sequence block first: a commit then adds to the index entries of the latest
            -- block only, a few hundred pages, where an index on (patient_id, seq) would touch a page per patient.
            DROP INDEX IF EXISTS messages_by_patient;
            CREATE INDEX IF NOT EXISTS messages_by_block_patient ON messages (seq >> 16, patient_id, seq) WHERE status = 1;
            CREATE TABLE IF NOT EXISTS counters (
                site_id TEXT NOT NULL, payload_type TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
                PRIMARY KEY (site_id, payload_type, outcome)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS rejection_reasons (
                site_id TEXT NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL, count INTEGER NOT NULL,
                PRIMARY KEY (site_id, field, rule)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            INSERT OR IGNORE INTO meta VALUES ('generation', 0);
            -- Rows up to this sequence are known to have their bronze lines on disk (see Unverified).
            INSERT OR IGNORE INTO meta SELECT 'verified_through', coalesce(max(seq), 0) FROM messages;
            """);
        if (!ColumnExists("messages", "flags"))
        {
            // Ledgers written before rows recorded their abnormal-value flags.
            Execute("ALTER TABLE messages ADD COLUMN flags INTEGER NOT NULL DEFAULT 0");
        }

        _wal = new FileStream(path + "-wal", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

        // A rejected message_id may be sent again, corrected: the accepted copy replaces the rejection. It takes a new
        // sequence, as a new row would: patient replays read rows after the snapshot's sequence, and the rejection's
        // old sequence may already lie behind a snapshot that does not include the corrected message.
        _upsert = PrepareStatement("""
            INSERT INTO messages (message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, offset, length, violations, flags)
            VALUES ($id, $status, $patient, $site, $type, $received, $event, $location, $offset, $length, $violations, $flags)
            ON CONFLICT (message_id) DO UPDATE SET
                seq = (SELECT max(seq) FROM messages) + 1,
                status = excluded.status, patient_id = excluded.patient_id, site_id = excluded.site_id,
                payload_type = excluded.payload_type, received_at = excluded.received_at, event_time = excluded.event_time,
                location = excluded.location, offset = excluded.offset, length = excluded.length, violations = excluded.violations,
                flags = excluded.flags
            WHERE messages.status = 2
            RETURNING seq
            """);
        _count = Prepare("""
            INSERT INTO counters VALUES ($site, $type, $outcome, $n)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """, "$site", "$type", "$outcome", "$n");
        _reason = Prepare("""
            INSERT INTO rejection_reasons VALUES ($site, $field, $rule, $n)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """, "$site", "$field", "$rule", "$n");
        _generation = Prepare("UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value");
        _verifiedThrough = Prepare("UPDATE meta SET value = $seq WHERE key = 'verified_through'", "$seq");
    }

    /// <summary>Starts the commit's transaction; every write statement joins it.</summary>
    public SqliteTransaction Begin()
    {
        var transaction = _writer.BeginTransaction();
        foreach (var command in (SqliteCommand[])[_count, _reason, _generation, _verifiedThrough])
        {
            command.Transaction = transaction;
        }

        return transaction;
    }

    /// <summary>
    /// Writes the message's row; returns its sequence, or 0 when an accepted row already holds the message_id. Bound
    /// and stepped through SQLite's own interface, inside the transaction <see cref="Begin"/> opened on the same
    /// connection: Microsoft.Data.Sqlite would allocate a binder per parameter and a reader per execution, for every
    /// message.
    /// </summary>
    public long Store(JournalEntry entry, string location, long offset, int length)
    {
        Span<byte> id = stackalloc byte[16];
        entry.MessageId!.Value.TryWriteBytes(id); // the byte order of Guid.ToByteArray, as rows written before
        try
        {
            Check(raw.sqlite3_bind_blob(_upsert, 1, id));
            Check(raw.sqlite3_bind_int64(_upsert, 2, entry.IsAccepted ? StatusAccepted : StatusRejected));
            BindText(3, entry.PatientId);
            BindText(4, entry.SiteId);
            BindText(5, entry.PayloadType?.WireName());
            Check(raw.sqlite3_bind_int64(_upsert, 6, entry.ReceivedAt.ToUnixTimeMilliseconds()));
            Check(entry.EventTime is { } eventTime
                ? raw.sqlite3_bind_int64(_upsert, 7, eventTime.ToUnixTimeMilliseconds())
                : raw.sqlite3_bind_null(_upsert, 7));
            BindText(8, location);
            Check(raw.sqlite3_bind_int64(_upsert, 9, offset));
            Check(raw.sqlite3_bind_int64(_upsert, 10, length));
            BindText(11, entry.IsAccepted ? null : JsonSerializer.Serialize(entry.Violations));
            Check(raw.sqlite3_bind_int64(_upsert, 12, entry.AbnormalFlags));

            var step = raw.sqlite3_step(_upsert);
            var sequence = step == raw.SQLITE_ROW ? raw.sqlite3_column_int64(_upsert, 0) : 0;
            if (step == raw.SQLITE_ROW)
            {
                step = raw.sqlite3_step(_upsert);
            }

            if (step != raw.SQLITE_DONE)
            {
                Check(step);
            }

            return sequence;
        }
        finally
        {
            raw.sqlite3_reset(_upsert);
        }
    }

    private void BindText(int index, string? text)
    {
        if (text is null)
        {
            Check(raw.sqlite3_bind_null(_upsert, index));
            return;
        }

        Span<byte> utf8 = text.Length <= 256 ? stackalloc byte[text.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
        Check(raw.sqlite3_bind_text(_upsert, index, utf8[..Encoding.UTF8.GetBytes(text, utf8)]));
    }

    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _writer.Handle);

    public void AddCount(string site, string payloadType, string outcome, long n)
    {
        _count.Parameters[0].Value = site;
        _count.Parameters[1].Value = payloadType;
        _count.Parameters[2].Value = outcome;
        _count.Parameters[3].Value = n;
        _count.ExecuteNonQuery();
    }

    public void AddReason(string site, string field, string rule, long n)
    {
        _reason.Parameters[0].Value = site;
        _reason.Parameters[1].Value = field;
        _reason.Parameters[2].Value = rule;
        _reason.Parameters[3].Value = n;
        _reason.ExecuteNonQuery();
    }

    /// <summary>Makes every commit so far durable (fsync of the WAL file, which SQLite itself leaves to checkpoints).</summary>
    public void SyncWal() => _wal.Flush(flushToDisk: true);

    /// <summary>Records that every row up to <paramref name="sequence"/> has its bronze line on disk; call inside a commit.</summary>
    public void MarkVerified(long sequence)
    {
        _verifiedThrough.Parameters[0].Value = sequence;
        _verifiedThrough.ExecuteNonQuery();
    }

    /// <summary>
    /// Rows not yet known to have their bronze lines on disk: those of the last commits before the process stopped.
    /// The ledger and the bronze files are synced at the same time, so after a power loss such a row may point at
    /// bytes that never reached the disk (its message was never acknowledged).
    /// </summary>
    public List<LedgerRow> Unverified()
    {
        using var connection = OpenReader();
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
                row.GetInt64(1) == StatusAccepted,
                row.IsDBNull(2) ? "unknown" : row.GetString(2),
                row.IsDBNull(3) ? "unknown" : row.GetString(3),
                row.GetString(4),
                row.GetInt64(5),
                row.GetInt32(6),
                row.GetInt32(7),
                row.IsDBNull(8) ? [] : JsonSerializer.Deserialize<List<Violation>>(row.GetString(8)) ?? []));
        }

        return result;
    }

    /// <summary>
    /// Removes <paramref name="rows"/> (unverified rows whose bronze lines are not, or not surely, on disk) and takes
    /// them out of the counters, in one durable transaction that marks every remaining row verified; returns the
    /// highest remaining sequence. The removed messages were never acknowledged, so a retry is accepted afresh, with a
    /// sequence above every acknowledged one.
    /// </summary>
    public long Forget(IReadOnlyList<LedgerRow> rows)
    {
        using var transaction = Begin();
        NextGeneration();
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM messages WHERE seq = $seq";
        var seq = command.Parameters.Add("$seq", SqliteType.Integer);
        var changes = new CounterChanges();
        foreach (var row in rows)
        {
            seq.Value = row.Sequence;
            command.ExecuteNonQuery();
            changes.AddStored(row.SiteId, row.PayloadType, row.IsAccepted, row.Flags, row.Violations, sign: -1);
        }

        changes.WriteTo(this);

        command.Parameters.Clear();
        command.CommandText = "DELETE FROM counters WHERE count = 0; DELETE FROM rejection_reasons WHERE count = 0";
        command.ExecuteNonQuery();
        command.CommandText = "UPDATE meta SET value = (SELECT coalesce(max(seq), 0) FROM messages) WHERE key = 'verified_through' RETURNING value";
        var verifiedThrough = (long)command.ExecuteScalar()!;
        transaction.Commit();
        SyncWal();
        return verifiedThrough;
    }

    /// <summary>Advances the commit generation; call inside the commit's transaction.</summary>
    public long NextGeneration() => (long)_generation.ExecuteScalar()!;

    public MessageRecord? Find(Guid messageId)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT status, patient_id, site_id, payload_type, received_at, event_time, location, violations
            FROM messages WHERE message_id = $id
            """;
        command.Parameters.AddWithValue("$id", messageId.ToByteArray());
        using var row = command.ExecuteReader();
        if (!row.Read())
        {
            return null;
        }

        var status = row.GetInt64(0) == StatusAccepted ? IngestStatus.Accepted : IngestStatus.Rejected;
        var violations = row.IsDBNull(7) ? [] : JsonSerializer.Deserialize<List<Violation>>(row.GetString(7)) ?? [];
        return new MessageRecord(
            messageId,
            status,
            row.IsDBNull(1) ? null : row.GetString(1),
            row.IsDBNull(2) ? null : row.GetString(2),
            row.IsDBNull(3) ? null : row.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(4)),
            row.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(5)),
            row.GetString(6),
            violations);
    }

    /// <summary>Accepted messages of one patient after <paramref name="afterSequence"/>, in commit order.</summary>
    public List<(long Sequence, long ReceivedAt, string Location, long Offset, int Length)> PatientMessages(string patientId, long afterSequence)
    {
        using var connection = OpenReader();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT coalesce(max(seq), 0) FROM messages";
        var lastSequence = (long)command.ExecuteScalar()!;

        // One index seek per sequence block (65,536 rows) since the snapshot: one or two for a recent snapshot.
        command.CommandText = """
            SELECT seq, received_at, location, offset, length FROM messages
            WHERE (seq >> 16) = $block AND patient_id = $patient AND status = 1 AND seq > $after ORDER BY seq
            """;
        var block = command.Parameters.Add("$block", SqliteType.Integer);
        command.Parameters.AddWithValue("$patient", patientId);
        command.Parameters.AddWithValue("$after", afterSequence);
        var result = new List<(long, long, string, long, int)>();
        for (var b = afterSequence >> 16; b <= lastSequence >> 16; b++)
        {
            block.Value = b;
            using var row = command.ExecuteReader();
            while (row.Read())
            {
                result.Add((row.GetInt64(0), row.GetInt64(1), row.GetString(2), row.GetInt64(3), row.GetInt32(4)));
            }
        }

        transaction.Commit();
        return result;
    }

    /// <summary>Counters and reasons (of one site, or all) read in one transaction, with the generation they include.</summary>
    public CounterSnapshot Counters(string? siteId)
    {
        using var connection = OpenReader();
        using var transaction = connection.BeginTransaction();
        var filter = siteId is null ? "" : " WHERE site_id = $site";

        var generation = Query(connection, transaction, "SELECT value FROM meta WHERE key = 'generation'", null, r => r.GetInt64(0)).Single();
        var counters = Query(connection, transaction, $"SELECT site_id, payload_type, outcome, count FROM counters{filter}", siteId,
            r => new CounterRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        var reasons = Query(connection, transaction, $"SELECT site_id, field, rule, count FROM rejection_reasons{filter}", siteId,
            r => new ReasonRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
        transaction.Commit();
        return new CounterSnapshot(generation, counters, reasons);
    }

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

    /// <summary>
    /// Copies committed WAL frames into the database file from another connection, beside the writer. The writer's
    /// own automatic checkpoint, which runs inside a commit and so delays every acknowledgement waiting on it, then
    /// finds little left to copy.
    /// </summary>
    public void Checkpoint()
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        command.ExecuteNonQuery();
    }

    public bool CanRead()
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        return command.ExecuteScalar() is 1L;
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private bool ColumnExists(string table, string column)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column";
        command.Parameters.AddWithValue("$table", table);
        command.Parameters.AddWithValue("$column", column);
        return (long)command.ExecuteScalar()! > 0;
    }

    private void Execute(string sql)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A statement compiled on the writer's connection; its parameters are numbered in the order they appear.</summary>
    private sqlite3_stmt PrepareStatement(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_writer.Handle, sql, out var statement));
        return statement;
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _writer.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    public void Dispose()
    {
        _upsert.Dispose();
        _count.Dispose();
        _reason.Dispose();
        _generation.Dispose();
        _verifiedThrough.Dispose();
        _writer.Dispose();
        _wal.Dispose();
    }
}

/// <summary>What <see cref="LedgerDatabase.Forget"/> needs of a row to take it out of the ledger and its counters.</summary>
internal sealed record LedgerRow(
    long Sequence, bool IsAccepted, string SiteId, string PayloadType, string Location, long Offset, int Length, int Flags, IReadOnlyList<Violation> Violations);
