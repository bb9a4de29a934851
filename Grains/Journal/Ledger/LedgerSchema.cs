using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Grains.Journal.Ledger;

/// <summary>
/// The ledger's tables and how a ledger file reaches them: numbered migrations, each applied once in its own
/// transaction with the <c>user_version</c> it brings the file to. Ledgers written before versions were recorded start
/// at 0 in one of several earlier shapes, so the first migrations check what is there before they change it.
/// </summary>
internal static class LedgerSchema
{
    public const int StatusAccepted = 1;
    public const int StatusRejected = 2;

    /// <summary>The migrations in order: migration i brings a ledger from version i to i + 1.</summary>
    private static readonly Action<SqliteCommand>[] Migrations =
    [
        CreateTables,
        AddFlagsColumn,
        DropUniqueMessageId,
        IndexBySequenceBlock,
        AddPatientDirectory,
        DropCommitGeneration,
        KeyRejectionsByTheirBytes,
    ];

    public static int Version => Migrations.Length;

    /// <summary>Sets the connection's pragmas and applies the migrations the file has not had.</summary>
    public static void Migrate(SqliteConnection connection)
    {
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            -- Commits write the WAL without syncing it; LedgerWriter.SyncWal does, at the same time as the bronze files are synced.
            PRAGMA synchronous = NORMAL;
            -- 128 MB of page cache: the latest blocks' index pages, which every commit adds to, stay in memory.
            PRAGMA cache_size = -131072;
            -- The journal's timer checkpoints every 200 ms from another connection. The writer's own checkpoint, which
            -- runs inside a commit and delays every acknowledgement waiting on it, is only the backstop (40 MB of WAL):
            -- at the default 1,000 pages it still ran inside commits on a large ledger.
            PRAGMA wal_autocheckpoint = 10000;
            """);

        using var version = connection.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        var from = (int)(long)version.ExecuteScalar()!;
        if (from > Migrations.Length)
        {
            throw new InvalidOperationException(
                $"The ledger is at schema version {from}, newer than this build's {Migrations.Length}: it was written by a later build.");
        }

        for (var applied = from; applied < Migrations.Length; applied++)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            Migrations[applied](command);
            command.Parameters.Clear();
            command.CommandText = $"PRAGMA user_version = {applied + 1}";
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>1: messages, counters, rejection reasons and the meta values.</summary>
    private static void CreateTables(SqliteCommand command) => Run(command, $"""
        {MessagesTable("messages")};
        CREATE TABLE IF NOT EXISTS counters (
            site_id TEXT NOT NULL, payload_type TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (site_id, payload_type, outcome)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rejection_reasons (
            site_id TEXT NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (site_id, field, rule)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta VALUES ('generation', 0);
        -- Rows up to this sequence are known to have their bronze lines on disk (LedgerRecovery.Unverified). Rows of
        -- ledgers written before it existed are taken as verified.
        INSERT OR IGNORE INTO meta SELECT 'verified_through', coalesce(max(seq), 0) FROM messages;
        """);

    /// <summary>2: rows record their abnormal-value flags (ledgers written before lack the column).</summary>
    private static void AddFlagsColumn(SqliteCommand command)
    {
        if (Scalar(command, "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'flags'") == 0)
        {
            Run(command, "ALTER TABLE messages ADD COLUMN flags INTEGER NOT NULL DEFAULT 0");
        }
    }

    /// <summary>
    /// 3: ledgers written before the message_id filter declared message_id UNIQUE; SQLite cannot drop a constraint, so
    /// the table is copied into one without it.
    /// </summary>
    private static void DropUniqueMessageId(SqliteCommand command)
    {
        if (Scalar(command, "SELECT count(*) FROM pragma_index_list('messages') WHERE origin = 'u'") > 0)
        {
            Run(command, $"""
                {MessagesTable("messages_copy")};
                INSERT INTO messages_copy
                    SELECT seq, message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, offset, length, violations, flags
                    FROM messages;
                DROP TABLE messages;
                ALTER TABLE messages_copy RENAME TO messages;
                """);
        }
    }

    /// <summary>
    /// 4: both indexes group rows by sequence block first, so that a commit adds to the entries of the latest block only
    /// (a few hundred pages) where an index on message_id or on (patient_id, seq) would touch pages all over the file.
    /// Whether a message_id is new is decided by the filter, then this index (LedgerWriter.Store).
    /// </summary>
    private static void IndexBySequenceBlock(SqliteCommand command) => Run(command, $"""
        DROP INDEX IF EXISTS messages_by_patient;
        {BlockIndexes};
        """);

    private static readonly string BlockIndexes = $"""
        CREATE INDEX IF NOT EXISTS messages_by_block_id ON messages (seq >> {MessageIdFilter.BlockShift}, message_id);
        CREATE INDEX IF NOT EXISTS messages_by_block_patient ON messages (seq >> {MessageIdFilter.BlockShift}, patient_id, seq) WHERE status = 1
        """;

    /// <summary>
    /// 5: which patients each site has accepted messages for, one row per pair, so that listing patients reads a table
    /// the size of the trial's enrolment instead of every message. <c>first_seq</c> is the pair's first accepted row:
    /// readers show a pair only once that row is durable, and recovery recounts the pairs whose first row it removes.
    /// </summary>
    private static void AddPatientDirectory(SqliteCommand command) => Run(command, $"""
        CREATE TABLE IF NOT EXISTS patients (
            patient_id TEXT NOT NULL, site_id TEXT NOT NULL, first_seq INTEGER NOT NULL,
            PRIMARY KEY (patient_id, site_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS patients_by_site ON patients (site_id, patient_id);
        {PatientsFrom("0")};
        """);

    /// <summary>
    /// 6: the commit generation counted every commit so that site grains could skip tallies their loaded counts already
    /// held; the counters are now the only count of a site's messages, so nothing reads it.
    /// </summary>
    private static void DropCommitGeneration(SqliteCommand command) => Run(command, "DELETE FROM meta WHERE key = 'generation'");

    /// <summary>
    /// 7: a rejection is stored once, keyed by the SHA-256 of its bytes as received (<c>digest</c>, indexed by sequence
    /// block like message_id); every rejection has a row, also one without a message_id, so that recovery takes its count
    /// back with it. message_id becomes optional, which SQLite allows only by copying the table. Rejections stored
    /// before have no digest: a redelivery of one is quarantined once more.
    /// </summary>
    private static void KeyRejectionsByTheirBytes(SqliteCommand command) => Run(command, $"""
        CREATE TABLE messages_copy (
            seq INTEGER PRIMARY KEY,
            message_id BLOB,
            status INTEGER NOT NULL,
            patient_id TEXT, site_id TEXT, payload_type TEXT,
            received_at INTEGER NOT NULL, event_time INTEGER,
            location TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
            violations TEXT, flags INTEGER NOT NULL DEFAULT 0,
            digest BLOB);
        INSERT INTO messages_copy
            SELECT seq, message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, offset, length, violations, flags, NULL
            FROM messages;
        DROP TABLE messages;
        ALTER TABLE messages_copy RENAME TO messages;
        {BlockIndexes};
        CREATE INDEX messages_by_block_digest ON messages (seq >> {MessageIdFilter.BlockShift}, digest) WHERE digest IS NOT NULL;
        """);

    /// <summary>Adds the pairs of the accepted rows after sequence <paramref name="after"/> (SQL) that the directory lacks.</summary>
    internal static string PatientsFrom(string after) => $"""
        INSERT OR IGNORE INTO patients (patient_id, site_id, first_seq)
            SELECT patient_id, site_id, min(seq) FROM messages
            WHERE status = {StatusAccepted} AND seq > {after} AND patient_id IS NOT NULL AND site_id IS NOT NULL
            GROUP BY patient_id, site_id
        """;

    /// <summary>The messages table as migrations 1 and 3 made it (migration 7 makes it anew).</summary>
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

    private static void Run(SqliteCommand command, string sql)
    {
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteCommand command, string sql)
    {
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
