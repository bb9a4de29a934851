using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Patients;
using Microsoft.Data.Sqlite;
using Orleans.Serialization;

namespace ClinicalTrials.Grains.Tests;

/// <summary>State after the silo goes away: patients are rebuilt from the journal, whatever the snapshot holds.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private string StateDb => Path.Combine(_data.Path, "state.db");

    private static async Task<PatientSummary> SummaryAsync(ClinicalCluster cluster, string patient) =>
        await cluster.Client.GetGrain<IPatientGrain>(patient).GetSummaryAsync() ?? throw new InvalidOperationException($"No summary for {patient}.");

    /// <summary>A consistent copy of the grain snapshots as they are now.</summary>
    private string BackUpSnapshots()
    {
        var backup = Path.Combine(_data.Path, "state-backup.db");
        using var connection = new SqliteConnection($"Data Source={StateDb};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"VACUUM INTO '{backup}'";
        command.ExecuteNonQuery();
        return backup;
    }

    /// <summary>Puts older snapshots back, as if the later snapshot writes had been lost; call with no silo running.</summary>
    private void RestoreSnapshots(string backup)
    {
        foreach (var suffix in new[] { "-wal", "-shm" })
        {
            File.Delete(StateDb + suffix);
        }

        File.Copy(backup, StateDb, overwrite: true);
    }

    /// <summary>Changes a patient's stored snapshot in place, as another build might have written it.</summary>
    private void RewriteSnapshot(Serializer serializer, string patient, Action<PatientState> change)
    {
        using var connection = new SqliteConnection($"Data Source={StateDb};Pooling=false");
        connection.Open();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT grain_id, data FROM grain_state WHERE state_name = 'patient' AND grain_id LIKE '%/' || $patient";
        read.Parameters.AddWithValue("$patient", patient);
        string grainId;
        PatientState state;
        using (var row = read.ExecuteReader())
        {
            Assert.True(row.Read(), $"No snapshot of {patient}.");
            (grainId, state) = (row.GetString(0), serializer.Deserialize<PatientState>((byte[])row.GetValue(1))!);
        }

        change(state);
        using var write = connection.CreateCommand();
        write.CommandText = "UPDATE grain_state SET data = $data WHERE state_name = 'patient' AND grain_id = $grain";
        write.Parameters.AddWithValue("$data", serializer.SerializeToArray(state));
        write.Parameters.AddWithValue("$grain", grainId);
        Assert.Equal(1, write.ExecuteNonQuery());
    }

    private void DeleteSnapshots()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(StateDb + suffix);
        }
    }

    [Fact]
    public async Task Patient_state_survives_a_silo_restart()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        PatientSummary before;
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync(Vitals(patient, site, at, 70).ToJsonString(), Vitals(patient, site, at.AddMinutes(30), 75).ToJsonString());
            await first.IngestAsync(Labs(patient, site, at, "K", 4.2, "mmol/L").ToJsonString());
            before = await SummaryAsync(first, patient);
        }

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var after = await SummaryAsync(second, patient);

        AssertSameState(before, after);
        Assert.Equal(2, after.MessageCounts["vital_signs"]);
        Assert.Equal(75, after.LatestVitals["heart_rate"].Value);
    }

    [Fact]
    public async Task Patient_state_is_replayed_from_the_journal_when_the_snapshot_is_missing()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        PatientSummary before;
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync(Vitals(patient, site, at, 70).ToJsonString());
            await first.IngestAsync(Vitals(patient, site, at.AddMinutes(-30), 90).ToJsonString());
            await first.IngestAsync(Labs(patient, site, at, "GLUC", 250, "mg/dL").ToJsonString());
            before = await SummaryAsync(first, patient);
        }

        DeleteSnapshots();

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var after = await SummaryAsync(second, patient);
        AssertSameState(before, after);
        Assert.Equal(70, after.LatestVitals["heart_rate"].Value);
        Assert.Equal(1, after.AbnormalValueCount);
    }

    [Fact]
    public async Task Replay_goes_on_without_messages_whose_bronze_files_retention_removed()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync(Vitals(patient, site, at, 70).ToJsonString());
            await first.IngestAsync(Labs(patient, site, at, "GLUC", 250, "mg/dL").ToJsonString());
        }

        DeleteSnapshots();
        Directory.Delete(Path.Combine(_data.Path, "raw", "vital_signs"), recursive: true);

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var after = await SummaryAsync(second, patient);
        Assert.False(after.MessageCounts.ContainsKey("vital_signs"));
        Assert.Equal(1, after.MessageCounts["lab_results"]);
        Assert.Equal(250, after.LatestLabs["GLUC"].Value);
    }

    [Fact]
    public async Task Patient_state_is_completed_from_the_journal_when_the_snapshot_is_stale()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        string backup;
        PatientSummary before;
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync(Vitals(patient, site, at, 70).ToJsonString());
            await first.DeactivateAsync(first.Client.GetGrain<IPatientGrain>(patient));
            backup = BackUpSnapshots();
            await first.IngestAsync(Vitals(patient, site, at.AddMinutes(10), 95).ToJsonString());
            before = await SummaryAsync(first, patient);
        }

        RestoreSnapshots(backup);

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var after = await SummaryAsync(second, patient);
        AssertSameState(before, after);
        Assert.Equal(2, after.MessageCounts["vital_signs"]);
        Assert.Equal(95, after.LatestVitals["heart_rate"].Value);
    }

    [Fact]
    public async Task Corrected_message_survives_a_stale_snapshot()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        var corrected = Guid.NewGuid();
        string backup;
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            // The rejection takes a ledger row first; later messages get later rows.
            await first.IngestAsync(ImpossibleVitals(patient, site, at, corrected).ToJsonString());
            await first.IngestAsync(Vitals(patient, site, at, 70).ToJsonString());
            await first.DeactivateAsync(first.Client.GetGrain<IPatientGrain>(patient));
            backup = BackUpSnapshots();
            var result = Assert.Single(await first.IngestAsync(Vitals(patient, site, at.AddMinutes(10), 80, corrected).ToJsonString()));
            Assert.Equal(IngestStatus.Accepted, result.Status);
            Assert.Equal(2, (await SummaryAsync(first, patient)).MessageCounts["vital_signs"]);
        }

        RestoreSnapshots(backup);

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var after = await SummaryAsync(second, patient);
        Assert.Equal(2, after.MessageCounts["vital_signs"]);
        Assert.Equal(80, after.LatestVitals["heart_rate"].Value);
    }

    public enum Snapshot
    {
        Kept,
        Missing,
        Stale,
    }

    [Theory]
    [InlineData(Snapshot.Kept)]
    [InlineData(Snapshot.Missing)]
    [InlineData(Snapshot.Stale)]
    public async Task Features_after_a_restart_equal_the_offline_replay(Snapshot snapshot)
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var history = History(patient, site, DateTimeOffset.UtcNow.AddHours(-1));
        string backup;
        PatientFeatures before;
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync([.. history[..10]]);
            await first.DeactivateAsync(first.Client.GetGrain<IPatientGrain>(patient));
            backup = BackUpSnapshots();
            await first.IngestAsync([.. history[10..]]);
            before = await OnlineOffline.AssertGrainEqualsReplayAsync(first, patient);
        }

        if (snapshot == Snapshot.Missing)
        {
            DeleteSnapshots();
        }
        else if (snapshot == Snapshot.Stale)
        {
            RestoreSnapshots(backup);
        }

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var after = await OnlineOffline.AssertGrainEqualsReplayAsync(second, patient);
        Assert.Equal(before.AsOf, after.AsOf);
        Assert.Equal(before.Values, after.Values);
    }

    [Fact]
    public async Task Snapshot_from_before_features_were_kept_is_rebuilt_from_the_journal()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        PatientSummary before;
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync([.. History(patient, site, DateTimeOffset.UtcNow.AddHours(-1))]);
            before = await SummaryAsync(first, patient);
            await first.DeactivateAsync(first.Client.GetGrain<IPatientGrain>(patient));
            RewriteSnapshot(first.Serializer, patient, state => state.Features = null);
        }

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        await OnlineOffline.AssertGrainEqualsReplayAsync(second, patient);
        var after = await SummaryAsync(second, patient);
        AssertSameState(before, after); // replayed whole, not on top of the old snapshot
    }

    [Fact]
    public async Task Site_counts_survive_a_silo_restart()
    {
        var site = NewSiteId();
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        var message = Vitals(NewPatientId(), site, at, 70).ToJsonString();
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            await first.IngestAsync(message, ImpossibleVitals(NewPatientId(), site, at).ToJsonString());
            await first.IngestAsync(message);
        }

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        var summary = SiteSummary.From(site, await second.Journal.CountersAsync(site));
        Assert.Equal(1, summary.Accepted["vital_signs"]);
        Assert.Equal(1, summary.Duplicates["vital_signs"]);
        Assert.Equal(1, summary.Rejected["vital_signs"]);
        Assert.Equal(1, summary.RejectionReasons["vital_signs.heart_rate:range"]);
    }

    [Fact]
    public async Task Message_acknowledged_before_a_restart_is_still_a_duplicate_after_it()
    {
        var message = Vitals(NewPatientId(), NewSiteId(), DateTimeOffset.UtcNow.AddHours(-1), 70).ToJsonString();
        await using (var first = await ClinicalCluster.StartAsync(_data.Path))
        {
            Assert.Equal(IngestStatus.Accepted, Assert.Single(await first.IngestAsync(message)).Status);
        }

        await using var second = await ClinicalCluster.StartAsync(_data.Path);
        Assert.Equal(IngestStatus.Duplicate, Assert.Single(await second.IngestAsync(message)).Status);
    }

    private static void AssertSameState(PatientSummary expected, PatientSummary actual)
    {
        Assert.Equal(expected.PatientId, actual.PatientId);
        Assert.Equal(expected.SiteId, actual.SiteId);
        Assert.Equal(expected.StudyPhase, actual.StudyPhase);
        Assert.Equal(expected.FirstEventAt, actual.FirstEventAt);
        Assert.Equal(expected.LastEventAt, actual.LastEventAt);
        Assert.Equal(expected.MessageCounts, actual.MessageCounts);
        Assert.Equal(expected.LatestVitals, actual.LatestVitals);
        Assert.Equal(expected.LatestLabs, actual.LatestLabs);
        Assert.Equal(expected.AbnormalValueCount, actual.AbnormalValueCount);
    }
}
