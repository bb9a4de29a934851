using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal.Ledger;
using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Grains.Tests;

/// <summary>The ledger's schema version: migrations bring a file to it once, and a file from a later build is refused.</summary>
public sealed class LedgerSchemaTests : IDisposable
{
    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task A_new_ledger_is_at_the_latest_version_and_opens_again_with_its_rows()
    {
        var messageId = Guid.NewGuid();
        JournalRecoveryTests.CreateLedgerEndingAt(_data.Path, 7, messageId);

        Assert.Equal(LedgerSchema.Version, UserVersion());
        using var journal = JournalRecoveryTests.Open(_data.Path);
        Assert.NotNull(await journal.FindAsync(messageId));
        Assert.Equal(LedgerSchema.Version, UserVersion());
        Assert.Equal(["verified_through"], MetaKeys()); // no commit generation since version 6
    }

    [Fact]
    public void A_ledger_written_by_a_later_build_is_refused_with_its_version()
    {
        JournalRecoveryTests.Open(_data.Path).Dispose();
        using (var connection = Connect())
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {LedgerSchema.Version + 1}";
            command.ExecuteNonQuery();
        }

        var refused = Assert.Throws<InvalidOperationException>(() => JournalRecoveryTests.Open(_data.Path));
        Assert.Contains($"schema version {LedgerSchema.Version + 1}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ledger_from_before_the_patient_directory_lists_the_patients_of_its_accepted_rows()
    {
        var site = TestMessages.NewSiteId();
        var (accepted, rejected) = (TestMessages.NewPatientId(), TestMessages.NewPatientId());
        using (var journal = JournalRecoveryTests.Open(_data.Path))
        {
            var rejection = JournalRecoveryTests.AcceptedEntry(rejected, site) with { Violations = [new("vital_signs.heart_rate", "range", "too high")] };
            await journal.AppendAsync([JournalRecoveryTests.AcceptedEntry(accepted, site), JournalRecoveryTests.AcceptedEntry(accepted, site), rejection]);
        }

        SqliteConnection.ClearAllPools();
        using (var connection = Connect())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE patients; PRAGMA user_version = 4";
            command.ExecuteNonQuery();
        }

        using var reopened = JournalRecoveryTests.Open(_data.Path);
        Assert.Equal(LedgerSchema.Version, UserVersion());
        var listed = await reopened.PatientsAsync(site, "", 10);
        Assert.Equal([accepted], listed.Select(p => p.PatientId));
    }

    [Fact]
    public async Task A_ledger_from_before_rejections_were_keyed_keeps_its_rows_and_quarantines_each_rejection_once()
    {
        var (site, acceptedId, rejectedId) = (TestMessages.NewSiteId(), Guid.NewGuid(), Guid.NewGuid());
        using (var connection = Connect())
        {
            using var command = connection.CreateCommand();
            // The tables as version 6 left them: message_id required, rejections without a key.
            command.CommandText = $$"""
                PRAGMA journal_mode = WAL;
                CREATE TABLE messages (
                    seq INTEGER PRIMARY KEY, message_id BLOB NOT NULL, status INTEGER NOT NULL,
                    patient_id TEXT, site_id TEXT, payload_type TEXT, received_at INTEGER NOT NULL, event_time INTEGER,
                    location TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, violations TEXT, flags INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE counters (site_id TEXT NOT NULL, payload_type TEXT NOT NULL, outcome TEXT NOT NULL, count INTEGER NOT NULL,
                    PRIMARY KEY (site_id, payload_type, outcome)) WITHOUT ROWID;
                CREATE TABLE rejection_reasons (site_id TEXT NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL, count INTEGER NOT NULL,
                    PRIMARY KEY (site_id, field, rule)) WITHOUT ROWID;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE INDEX messages_by_block_id ON messages (seq >> 16, message_id);
                CREATE INDEX messages_by_block_patient ON messages (seq >> 16, patient_id, seq) WHERE status = 1;
                CREATE TABLE patients (patient_id TEXT NOT NULL, site_id TEXT NOT NULL, first_seq INTEGER NOT NULL,
                    PRIMARY KEY (patient_id, site_id)) WITHOUT ROWID;
                CREATE INDEX patients_by_site ON patients (site_id, patient_id);
                INSERT INTO meta VALUES ('verified_through', 2);
                INSERT INTO messages VALUES
                    (1, $accepted, 1, 'PT00000001', '{{site}}', 'vital_signs', 0, 0, 'raw/vital_signs/date=2025-01-01/hour=00/part-old-000.ndjson', 0, 100, NULL, 0),
                    (2, $rejected, 2, 'PT00000002', '{{site}}', 'vital_signs', 0, NULL, 'quarantine/date=2025-01-01/hour=00/part-old-000.ndjson', 0, 100,
                        '[{"field":"vital_signs.heart_rate","rule":"range","message":"too high"}]', 0);
                INSERT INTO counters VALUES ('{{site}}', 'vital_signs', 'accepted', 1), ('{{site}}', 'vital_signs', 'rejected', 1);
                INSERT INTO patients VALUES ('PT00000001', '{{site}}', 1);
                PRAGMA user_version = 6;
                """;
            command.Parameters.AddWithValue("$accepted", acceptedId.ToByteArray());
            command.Parameters.AddWithValue("$rejected", rejectedId.ToByteArray());
            command.ExecuteNonQuery();
        }

        using var journal = JournalRecoveryTests.Open(_data.Path);

        Assert.Equal(LedgerSchema.Version, UserVersion());
        Assert.Equal(IngestStatus.Accepted, (await journal.FindAsync(acceptedId))!.Status);
        Assert.Equal(IngestStatus.Rejected, (await journal.FindAsync(rejectedId))!.Status);
        var notJson = QuarantineOnceTests.Received(System.Text.Encoding.UTF8.GetBytes("not json {"));
        var appended = await journal.AppendAsync([
            JournalRecoveryTests.AcceptedEntry("PT00000001", site) with { MessageId = acceptedId },
            JournalRecoveryTests.AcceptedEntry("PT00000002", site) with { MessageId = rejectedId },
            notJson, notJson]);
        Assert.Equal([IngestStatus.Duplicate, IngestStatus.Accepted, IngestStatus.Rejected, IngestStatus.Duplicate], appended.Select(a => a.Status));
        Assert.Equal(IngestStatus.Accepted, (await journal.FindAsync(rejectedId))!.Status);
        Assert.Equal(
            ["PT00000001", "PT00000002"],
            (await journal.PatientsAsync(site, "", 10)).Select(p => p.PatientId));
    }

    private long UserVersion()
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return (long)command.ExecuteScalar()!;
    }

    private List<string> MetaKeys()
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key FROM meta ORDER BY key";
        using var row = command.ExecuteReader();
        var keys = new List<string>();
        while (row.Read())
        {
            keys.Add(row.GetString(0));
        }

        return keys;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_data.Path, "ledger.db")};Pooling=false");
        connection.Open();
        return connection;
    }
}
