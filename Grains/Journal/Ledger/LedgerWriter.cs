using System.Text;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace ClinicalTrials.Grains.Journal.Ledger;

/// <summary>
/// The ledger's one writing connection, used only by the journal's commit loop: rows, counters and the meta values,
/// inside the commit's transaction. A commit only writes the WAL; the journal makes it durable with <see cref="SyncWal"/>,
/// beside the fsync of the bronze lines. This is the ingest hot path: measured, keep it as it is.
/// </summary>
internal sealed class LedgerWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _locateAccepted;
    private readonly sqlite3_stmt _locateRejection;
    private readonly MessageIdFilter _acceptedIds;
    private readonly MessageIdFilter _rejectionKeys;
    private readonly List<long> _candidateBlocks = [];
    private readonly SqliteCommand _count;
    private readonly SqliteCommand _reason;
    private readonly SqliteCommand _patient;
    private readonly SqliteCommand _verifiedThrough;
    private readonly FileStream _wal;

    /// <summary>Opens the ledger at <paramref name="path"/>, bringing its schema up to date.</summary>
    public LedgerWriter(string path)
    {
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _connection = new SqliteConnection(ConnectionString);
        _connection.Open();
        LedgerSchema.Migrate(_connection);
        (_acceptedIds, _rejectionKeys) = LoadKeys();

        _wal = new FileStream(path + "-wal", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

        _insert = PrepareStatement("""
            INSERT INTO messages (message_id, status, patient_id, site_id, payload_type, received_at, event_time, location, offset, length, violations, flags, digest)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            RETURNING seq
            """);
        _locateAccepted = PrepareStatement(
            $"SELECT seq FROM messages WHERE (seq >> {MessageIdFilter.BlockShift}) = ?1 AND message_id = ?2 AND status = {LedgerSchema.StatusAccepted}");
        _locateRejection = PrepareStatement(LocateRejectionSql);
        _count = Prepare("""
            INSERT INTO counters VALUES ($site, $type, $outcome, $n)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """, "$site", "$type", "$outcome", "$n");
        _reason = Prepare("""
            INSERT INTO rejection_reasons VALUES ($site, $field, $rule, $n)
            ON CONFLICT DO UPDATE SET count = count + excluded.count
            """, "$site", "$field", "$rule", "$n");
        _patient = Prepare(
            "INSERT INTO patients VALUES ($patient, $site, $seq) ON CONFLICT DO NOTHING", "$patient", "$site", "$seq");
        _verifiedThrough = Prepare("UPDATE meta SET value = $seq WHERE key = 'verified_through'", "$seq");
    }

    /// <summary>A rejection's row in one sequence block (?1) by its key (?2), through the partial index messages_by_block_digest.</summary>
    internal static readonly string LocateRejectionSql = $"SELECT seq FROM messages WHERE (seq >> {MessageIdFilter.BlockShift}) = ?1 AND digest = ?2";

    /// <summary>Reads the message_id of every accepted row and the key of every rejection into new filters.</summary>
    private (MessageIdFilter AcceptedIds, MessageIdFilter RejectionKeys) LoadKeys()
    {
        var (acceptedIds, rejectionKeys) = (new MessageIdFilter(), new MessageIdFilter());
        var statement = PrepareStatement($"""
            SELECT seq, message_id, digest FROM messages WHERE status = {LedgerSchema.StatusAccepted} OR digest IS NOT NULL
            """);
        using (statement)
        {
            int step;
            while ((step = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                var sequence = raw.sqlite3_column_int64(statement, 0);
                if (raw.sqlite3_column_type(statement, 2) == raw.SQLITE_NULL)
                {
                    acceptedIds.Add(sequence, new Guid(raw.sqlite3_column_blob(statement, 1)));
                }
                else
                {
                    rejectionKeys.Add(sequence, FilterKey(raw.sqlite3_column_blob(statement, 2)));
                }
            }

            Check(step);
        }

        return (acceptedIds, rejectionKeys);
    }

    /// <summary>A rejection's key as its filter takes it: the first 16 of its 32 bytes, as random as a new message_id.</summary>
    private static Guid FilterKey(ReadOnlySpan<byte> rejectionKey) => new(rejectionKey[..16]);

    /// <summary>For the readers beside the writer (<see cref="LedgerReader"/>).</summary>
    public string ConnectionString { get; }

    /// <summary>Starts the commit's transaction; every write statement joins it.</summary>
    public SqliteTransaction Begin()
    {
        var transaction = _connection.BeginTransaction();
        foreach (var command in (SqliteCommand[])[_count, _reason, _patient, _verifiedThrough])
        {
            command.Transaction = transaction;
        }

        return transaction;
    }

    /// <summary>A command on the writer's connection inside <paramref name="transaction"/>, for statements run once (recovery).</summary>
    public SqliteCommand Command(SqliteTransaction transaction, string sql)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>
    /// Writes the message's row; returns its sequence, or 0 when the message is a repeat: an accepted message whose
    /// message_id an accepted row holds, or a rejection whose key (<see cref="JournalEntry.RejectionKey"/>) a rejected row
    /// holds. Each is looked up only in the blocks its in-memory filter cannot rule out, so a new one costs no index
    /// look-up at all. Rejections of a message_id stay beside its accepted row (and beside each other), so that a
    /// redelivered rejection is still known after its message was corrected. Bound and stepped through SQLite's own
    /// interface, inside the transaction <see cref="Begin"/> opened on the same connection: Microsoft.Data.Sqlite would
    /// allocate a binder per parameter and a reader per execution, for every message.
    /// </summary>
    public long Store(JournalEntry entry, string location, long offset, int length)
    {
        Span<byte> id = stackalloc byte[16];
        entry.MessageId?.TryWriteBytes(id); // the byte order of Guid.ToByteArray, as rows written before
        var rejectionKey = entry.IsAccepted ? null : entry.RejectionKey;
        var repeat = rejectionKey is null
            ? Holds(_acceptedIds, entry.MessageId!.Value, _locateAccepted, id)
            : Holds(_rejectionKeys, FilterKey(rejectionKey), _locateRejection, rejectionKey);
        if (repeat)
        {
            return 0;
        }

        var statement = _insert;
        try
        {
            Check(entry.MessageId is null ? raw.sqlite3_bind_null(statement, 1) : raw.sqlite3_bind_blob(statement, 1, id));
            Check(raw.sqlite3_bind_int64(statement, 2, entry.IsAccepted ? LedgerSchema.StatusAccepted : LedgerSchema.StatusRejected));
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
            Check(rejectionKey is null ? raw.sqlite3_bind_null(statement, 13) : raw.sqlite3_bind_blob(statement, 13, rejectionKey));
            var sequence = StepReturningSequence(statement);
            if (rejectionKey is null)
            {
                _acceptedIds.Add(sequence, entry.MessageId!.Value);
            }
            else
            {
                _rejectionKeys.Add(sequence, FilterKey(rejectionKey));
            }

            return sequence;
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>
    /// Whether a row holds <paramref name="key"/> (<paramref name="filterKey"/> as <paramref name="filter"/> takes it),
    /// looked up with <paramref name="locate"/> in the blocks the filter cannot rule out.
    /// </summary>
    private bool Holds(MessageIdFilter filter, Guid filterKey, sqlite3_stmt locate, ReadOnlySpan<byte> key)
    {
        filter.Candidates(filterKey, _candidateBlocks);
        if (_candidateBlocks.Count == 0)
        {
            return false;
        }

        try
        {
            Check(raw.sqlite3_bind_blob(locate, 2, key));
            foreach (var block in _candidateBlocks)
            {
                Check(raw.sqlite3_bind_int64(locate, 1, block));
                var step = raw.sqlite3_step(locate);
                if (step == raw.SQLITE_ROW)
                {
                    return true;
                }

                Check(step);
                raw.sqlite3_reset(locate);
            }

            return false;
        }
        finally
        {
            raw.sqlite3_reset(locate);
        }
    }

    /// <summary>Steps an INSERT … RETURNING seq that writes one row; returns the row's sequence.</summary>
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
    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, _connection.Handle);

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

    /// <summary>Records that <paramref name="site"/> has accepted messages for the patient, first at <paramref name="sequence"/>, unless known.</summary>
    public void AddPatient(string patientId, string site, long sequence)
    {
        _patient.Parameters[0].Value = patientId;
        _patient.Parameters[1].Value = site;
        _patient.Parameters[2].Value = sequence;
        _patient.ExecuteNonQuery();
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
    /// Copies the whole WAL into the database file, fsyncs it and empties the WAL, waiting for readers to let go;
    /// throws when it could not finish. A passive checkpoint running beside the writer (<see cref="LedgerReader.Checkpoint"/>)
    /// makes it answer busy at once, so it tries again for a while before giving up.
    /// </summary>
    public void CheckpointFully()
    {
        for (var attempt = 1; ; attempt++)
        {
            using var command = _connection.CreateCommand();
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

    /// <summary>A statement compiled on the writer's connection; its parameters are numbered in the order they appear.</summary>
    private sqlite3_stmt PrepareStatement(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_connection.Handle, sql, out var statement));
        return statement;
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
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
        _locateAccepted.Dispose();
        _locateRejection.Dispose();
        _count.Dispose();
        _reason.Dispose();
        _patient.Dispose();
        _verifiedThrough.Dispose();
        _connection.Dispose();
        _wal.Dispose();
    }
}
