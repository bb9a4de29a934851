using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// The EMR outbox's own durable state, beside the journal in its data directory (<c>emr-outbox.db</c>): the journal
/// sequence through which every lab message has been delivered (the cursor), and one audit row per delivery.
/// </summary>
internal sealed class EmrDeliveryLog : IDisposable
{
    private readonly SqliteConnection _connection;

    public EmrDeliveryLog(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        _connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "emr-outbox.db")};Pooling=False");
        _connection.Open();
        Execute("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), delivered_through INTEGER NOT NULL);
            INSERT OR IGNORE INTO cursor VALUES (1, 0);
            CREATE TABLE IF NOT EXISTS deliveries (
                id INTEGER PRIMARY KEY, journal_sequence INTEGER NOT NULL, message_id TEXT NOT NULL, result_index INTEGER NOT NULL,
                outcome TEXT NOT NULL, http_status INTEGER, attempts INTEGER NOT NULL, delivered_at TEXT NOT NULL);
            """);
    }

    /// <summary>The journal sequence through which every lab message has been delivered.</summary>
    public long DeliveredThrough()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT delivered_through FROM cursor WHERE id = 1";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Records one message's deliveries and moves the cursor past it, in one durable transaction.</summary>
    public void Record(long sequence, IReadOnlyList<EmrDelivery> deliveries)
    {
        using var transaction = _connection.BeginTransaction();
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO deliveries (journal_sequence, message_id, result_index, outcome, http_status, attempts, delivered_at)
            VALUES ($seq, $id, $index, $outcome, $status, $attempts, $at)
            """;
        foreach (var d in deliveries)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$seq", sequence);
            command.Parameters.AddWithValue("$id", d.MessageId.ToString());
            command.Parameters.AddWithValue("$index", d.ResultIndex);
            command.Parameters.AddWithValue("$outcome", d.Outcome);
            command.Parameters.AddWithValue("$status", (object?)d.HttpStatus ?? DBNull.Value);
            command.Parameters.AddWithValue("$attempts", d.Attempts);
            command.Parameters.AddWithValue("$at", d.At.ToString("O"));
            command.ExecuteNonQuery();
        }

        command.Parameters.Clear();
        command.CommandText = "UPDATE cursor SET delivered_through = $seq WHERE id = 1";
        command.Parameters.AddWithValue("$seq", sequence);
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>One lab result's delivery: <c>created</c> or <c>exists</c> (the EMR had it: a resend), or <c>refused</c> (a 4xx, kept for review).</summary>
internal sealed record EmrDelivery(Guid MessageId, int ResultIndex, string Outcome, int? HttpStatus, int Attempts, DateTimeOffset At);
