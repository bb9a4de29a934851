using ClinicalTrials.Domain.Validation;
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
