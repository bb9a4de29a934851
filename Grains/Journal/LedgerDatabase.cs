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
/// location, and the counters behind the stats. Rows are found by message_id through an in-memory filter of the ids
/// in each block of sequences and an index ordered by block (see <see cref="Store"/>). Written only by the journal's
/// commit loop. A commit only writes the WAL; the journal makes it durable with <see cref="SyncWal"/>, beside the
/// fsync of the bronze lines.
/// </summary>
internal sealed class LedgerDatabase : IDisposable
{
    private const int StatusAccepted = 1;
    private const int StatusRejected = 2;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _replace;
    private readonly sqlite3_stmt _locate;
    private readonly MessageIdFilter _ids;
    private readonly List<long> _candidateBlocks = [];
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
            -- 128 MB of page cache: the latest blocks' index pages, which every commit adds to, stay in memory.
            PRAGMA cache_size = -131072;
            -- The journal's timer checkpoints every 200 ms from another connection. The writer's own checkpoint, which
            -- runs inside a commit and delays every acknowledgement waiting on it, is only the backstop (40 MB of WAL):
            -- at the default 1,000 pages it still ran inside commits on a large ledger.
            PRAGMA wal_autocheckpoint = 10000;
            """);
        Execute(MessagesTable("messages"));
        if (!ColumnExists("messages", "flags"))
        {
            // Ledgers written before rows recorded their abnormal-value flags.
            Execute("ALTER TABLE messages ADD COLUMN flags INTEGER NOT NULL DEFAULT 0");
        }

        if (HasUniqueMessageId())
        {
            DropUniqueMessageId();
        }

        Execute($"""
            -- Both indexes group rows by sequence block first, so that a commit adds to the entries of the latest block
            -- only (a few hundred pages) where an index on message_id or on (patient_id, seq) would touch pages all
            -- over the file. Whether a message_id is new is decided by the filter, then this index (see Store).
            CREATE INDEX IF NOT EXISTS messages_by_block_id ON messages (seq >> {MessageIdFilter.BlockShift}, message_id);
            DROP INDEX IF EXISTS messages_by_patient;
            CREATE INDEX IF NOT EXISTS messages_by_block_patient ON messages (seq >> {MessageIdFilter.BlockShift}, patient_id, seq) WHERE status = 1;
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
        _ids = LoadMessageIds();

        _wal = new FileStream(path + "-wal", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

        _insert = PrepareStatement("""
            INSERT INTO messages (message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, offset, length, violations, flags)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            RETURNING seq
            """);
        // A rejected message_id may be sent again, corrected: the accepted copy replaces the rejection. It takes a new
        // sequence, as a new row would: patient replays read rows after the snapshot's sequence, and the rejection's
        // old sequence may already lie behind a snapshot that does not include the corrected message.
        _replace = PrepareStatement("""
            UPDATE messages SET seq = (SELECT max(seq) FROM messages) + 1,
                message_id = ?1, status = ?2, patient_id = ?3, site_id = ?4, payload_type = ?5, received_at = ?6,
                event_time = ?7, location = ?8, offset = ?9, length = ?10, violations = ?11, flags = ?12
            WHERE seq = ?13
            RETURNING seq
            """);
        _locate = PrepareStatement($"SELECT seq, status FROM messages WHERE (seq >> {MessageIdFilter.BlockShift}) = ?1 AND message_id = ?2");
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

    private static string MessagesTable(string name) => $"""
        CREATE TABLE IF NOT EXISTS {name} (
            seq INTEGER PRIMARY KEY,
            message_id BLOB NOT NULL,
            status INTEGER NOT NULL,
            patient_id TEXT, site_id TEXT, payload_type TEXT,
            received_at INTEGER NOT NULL, event_time INTEGER,
            location TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
            violations TEXT, flags INTEGER NOT NULL DEFAULT 0)
        """;

    private bool HasUniqueMessageId()
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pragma_index_list('messages') WHERE origin = 'u'";
        return (long)command.ExecuteScalar()! > 0;
    }

    /// <summary>
    /// Ledgers written before the message_id filter declared message_id UNIQUE; SQLite cannot drop a constraint, so
    /// the table is copied into one without it, in one transaction.
    /// </summary>
    private void DropUniqueMessageId()
    {
        using var transaction = _writer.BeginTransaction();
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            {MessagesTable("messages_copy")};
            INSERT INTO messages_copy
                SELECT seq, message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, offset, length, violations, flags
                FROM messages;
            DROP TABLE messages;
            ALTER TABLE messages_copy RENAME TO messages;
            """;
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Reads every message_id of the ledger into a new filter.</summary>
    private MessageIdFilter LoadMessageIds()
    {
        var filter = new MessageIdFilter();
        var statement = PrepareStatement("SELECT seq, message_id FROM messages");
        using (statement)
        {
            int step;
            while ((step = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                filter.Add(raw.sqlite3_column_int64(statement, 0), new Guid(raw.sqlite3_column_blob(statement, 1)));
            }

            Check(step);
        }

        return filter;
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
    /// Writes the message's row; returns its sequence, or 0 when an accepted row already holds the message_id (looked up
    /// only in the blocks the in-memory filter cannot rule out, so a new id costs no index look-up at all). Bound
    /// and stepped through SQLite's own interface, inside the transaction <see cref="Begin"/> opened on the same
    /// connection: Microsoft.Data.Sqlite would allocate a binder per parameter and a reader per execution, for every
    /// message.
    /// </summary>
    public long Store(JournalEntry entry, string location, long offset, int length)
    {
        var messageId = entry.MessageId!.Value;
        Span<byte> id = stackalloc byte[16];
        messageId.TryWriteBytes(id); // the byte order of Guid.ToByteArray, as rows written before
        var existing = Locate(messageId, id);
        if (existing is { IsAccepted: true })
        {
            return 0;
        }

        var statement = existing is null ? _insert : _replace;
        try
        {
            Check(raw.sqlite3_bind_blob(statement, 1, id));
            Check(raw.sqlite3_bind_int64(statement, 2, entry.IsAccepted ? StatusAccepted : StatusRejected));
            BindText(statement, 3, entry.PatientId);
            BindText(statement, 4, entry.SiteId);
            BindText(statement, 5, entry.PayloadType?.WireName());
            Check(raw.sqlite3_bind_int64(statement, 6, entry.ReceivedAt.ToUnixTimeMilliseconds()));
            Check(entry.EventTime is { } eventTime
                ? raw.sqlite3_bind_int64(statement, 7, eventTime.ToUnixTimeMilliseconds())
                : raw.sqlite3_bind_null(statement, 7));
            BindText(statement, 8, location);
            Check(raw.sqlite3_bind_int64(statement, 9, offset));
            Check(raw.sqlite3_bind_int64(statement, 10, length));
            BindText(statement, 11, entry.Reasons.Count == 0 ? null : JsonSerializer.Serialize(entry.Reasons));
            Check(raw.sqlite3_bind_int64(statement, 12, entry.AbnormalFlags));
            if (existing is not null)
            {
                Check(raw.sqlite3_bind_int64(statement, 13, existing.Value.Sequence));
            }

            var sequence = StepReturningSequence(statement);
            _ids.Add(sequence, messageId);
            return sequence;
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>
    /// The row holding <paramref name="messageId"/> (stored as the bytes <paramref name="id"/>), looked up in the blocks
    /// its filter cannot rule out.
    /// </summary>
    private (long Sequence, bool IsAccepted)? Locate(Guid messageId, ReadOnlySpan<byte> id)
    {
        _ids.Candidates(messageId, _candidateBlocks);
        if (_candidateBlocks.Count == 0)
        {
            return null;
        }

        try
        {
            Check(raw.sqlite3_bind_blob(_locate, 2, id));
            foreach (var block in _candidateBlocks)
            {
                Check(raw.sqlite3_bind_int64(_locate, 1, block));
                var step = raw.sqlite3_step(_locate);
                if (step == raw.SQLITE_ROW)
                {
                    return (raw.sqlite3_column_int64(_locate, 0), raw.sqlite3_column_int64(_locate, 1) == StatusAccepted);
                }

                Check(step);
                raw.sqlite3_reset(_locate);
            }

            return null;
        }
        finally
        {
            raw.sqlite3_reset(_locate);
        }
    }

    /// <summary>Steps an INSERT or UPDATE … RETURNING seq that writes one row; returns the row's sequence.</summary>
    private long StepReturningSequence(sqlite3_stmt statement)
    {
        var step = raw.sqlite3_step(statement);
        if (step != raw.SQLITE_ROW)
        {
            Check(step);
            throw new InvalidOperationException("The statement wrote no row.");
        }

        var sequence = raw.sqlite3_column_int64(statement, 0);
        Check(raw.sqlite3_step(statement));
        return sequence;
    }

    private void BindText(sqlite3_stmt statement, int index, string? text)
    {
        if (text is null)
        {
            Check(raw.sqlite3_bind_null(statement, index));
            return;
        }

        Span<byte> utf8 = text.Length <= 256 ? stackalloc byte[text.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(text.Length)];
        Check(raw.sqlite3_bind_text(statement, index, utf8[..Encoding.UTF8.GetBytes(text, utf8)]));
    }

    /// <summary>Throws for SQLite's error codes; OK, ROW and DONE pass.</summary>
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
    /// sequence above every acknowledged one. <paramref name="alsoTakenBack"/> holds the counts that no row records
    /// (duplicates of the commit taken back).
    /// </summary>
    public long Forget(IReadOnlyList<LedgerRow> rows, CounterChanges? alsoTakenBack = null)
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
        alsoTakenBack?.WriteTo(this);

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

    /// <summary>The row of <paramref name="messageId"/> among the rows up to <paramref name="throughSequence"/>.</summary>
    public MessageRecord? Find(Guid messageId, long throughSequence)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = FindSql;
        command.Parameters.AddWithValue("$id", messageId.ToByteArray());
        command.Parameters.AddWithValue("$through", throughSequence);
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

    /// <summary>
    /// Looks a message_id up in each sequence block, newest first. The blocks must be the outer loop (CROSS JOIN keeps
    /// SQLite's planner from reordering it): with messages outside, SQLite scanned the whole table for a recent or
    /// unknown id, 25 ms at 165,000 rows.
    /// </summary>
    internal static readonly string FindSql = $"""
        WITH RECURSIVE blocks (block) AS (
            SELECT $through >> {MessageIdFilter.BlockShift}
            UNION ALL SELECT block - 1 FROM blocks WHERE block > 0)
        SELECT status, patient_id, site_id, payload_type, received_at, event_time, location, violations
        FROM blocks CROSS JOIN messages
        WHERE (seq >> {MessageIdFilter.BlockShift}) = block AND message_id = $id AND seq <= $through
        LIMIT 1
        """;

    /// <summary>Accepted messages of one patient after <paramref name="afterSequence"/> up to <paramref name="throughSequence"/>, in commit order.</summary>
    public List<(long Sequence, long ReceivedAt, string Location, long Offset, int Length)> PatientMessages(string patientId, long afterSequence, long throughSequence)
    {
        using var connection = OpenReader();
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
        var result = new List<(long, long, string, long, int)>();
        for (var b = afterSequence >> MessageIdFilter.BlockShift; b <= throughSequence >> MessageIdFilter.BlockShift; b++)
        {
            block.Value = b;
            using var row = command.ExecuteReader();
            while (row.Read())
            {
                result.Add((row.GetInt64(0), row.GetInt64(1), row.GetString(2), row.GetInt64(3), row.GetInt32(4)));
            }
        }

        return result;
    }

    /// <summary>Up to <paramref name="limit"/> accepted messages of one payload type after <paramref name="afterSequence"/> up to <paramref name="throughSequence"/>, in commit order.</summary>
    public List<(long Sequence, long ReceivedAt, string Location, long Offset, int Length)> AcceptedMessages(
        string payloadType, long afterSequence, long throughSequence, int limit)
    {
        using var connection = OpenReader();
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
        var result = new List<(long, long, string, long, int)>();
        using var row = command.ExecuteReader();
        while (row.Read())
        {
            result.Add((row.GetInt64(0), row.GetInt64(1), row.GetString(2), row.GetInt64(3), row.GetInt32(4)));
        }

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
        return new CounterSnapshot(new Dictionary<string, long> { [IngestJournal.Writer] = generation }, counters, reasons);
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

    /// <summary>
    /// Copies the whole WAL into the database file, fsyncs it and empties the WAL, waiting for readers to let go;
    /// throws when it could not finish. A passive checkpoint running beside the writer (<see cref="Checkpoint"/>) makes
    /// it answer busy at once, so it tries again for a while before giving up.
    /// </summary>
    public void CheckpointFully()
    {
        for (var attempt = 1; ; attempt++)
        {
            using var command = _writer.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var row = command.ExecuteReader();
            if (row.Read() && row.GetInt64(0) == 0)
            {
                return;
            }

            if (attempt == FullCheckpointAttempts)
            {
                throw new IOException("The ledger's WAL could not be checkpointed: readers held it.");
            }

            Thread.Sleep(FullCheckpointPause);
        }
    }

    private const int FullCheckpointAttempts = 50;
    private static readonly TimeSpan FullCheckpointPause = TimeSpan.FromMilliseconds(20);

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
        _insert.Dispose();
        _replace.Dispose();
        _locate.Dispose();
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
