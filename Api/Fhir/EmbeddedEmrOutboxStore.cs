using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Journal;
using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// The EMR outbox of the embedded profile. It follows the embedded journal, whose sequences become visible in commit
/// order, and keeps its own state beside it in the data directory (<c>emr-outbox.db</c>): the journal sequence through
/// which every lab message has been delivered (the cursor), and one audit row per delivery.
/// </summary>
internal sealed class EmbeddedEmrOutboxStore : IEmrOutboxStore
{
    private readonly IJournalTail _journal;
    private readonly SqliteConnection _connection;
    private long _deliveredThrough;

    public EmbeddedEmrOutboxStore(IJournalTail journal, string dataDirectory)
    {
        _journal = journal;
        Directory.CreateDirectory(dataDirectory);
        _connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "emr-outbox.db")};Pooling=False");
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), delivered_through INTEGER NOT NULL);
            INSERT OR IGNORE INTO cursor VALUES (1, 0);
            CREATE TABLE IF NOT EXISTS deliveries (
                id INTEGER PRIMARY KEY, journal_sequence INTEGER NOT NULL, message_id TEXT NOT NULL, result_index INTEGER NOT NULL,
                outcome TEXT NOT NULL, http_status INTEGER, attempts INTEGER NOT NULL, delivered_at TEXT NOT NULL);
            """;
        command.ExecuteNonQuery();
        _deliveredThrough = ReadCursor();
    }

    // One process owns the data directory: it is always this silo's turn.
    public Task WaitForTurnAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IReadOnlyList<StoredMessage>> NextAsync(int limit, CancellationToken cancellationToken) =>
        await _journal.ReadAcceptedAsync(PayloadType.LabResults, _deliveredThrough, limit);

    // Its sequences become visible in order: nothing waits behind another commit.
    public long HeldBack => 0;

    public Task RecordAsync(StoredMessage message, IReadOnlyList<EmrDelivery> deliveries, CancellationToken cancellationToken)
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
            command.Parameters.AddWithValue("$seq", message.Sequence);
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
        command.Parameters.AddWithValue("$seq", message.Sequence);
        command.ExecuteNonQuery();
        transaction.Commit();
        _deliveredThrough = message.Sequence;
        return Task.CompletedTask;
    }

    public ValueTask ResetAsync()
    {
        _deliveredThrough = ReadCursor();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private long ReadCursor()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT delivered_through FROM cursor WHERE id = 1";
        return (long)command.ExecuteScalar()!;
    }
}
