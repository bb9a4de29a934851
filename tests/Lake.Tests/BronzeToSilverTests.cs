using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Tests;

public sealed class BronzeToSilverTests
{
    private static readonly DateTimeOffset Received = TestLake.Now.AddDays(-1); // a sealed hour partition
    private static readonly DateTimeOffset Clinical = new(2026, 3, 9, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Day = new(2026, 3, 9);

    private static List<VitalRow> Vitals(TestLake lake) =>
        [.. VitalTable.Instance.Read(Path.Combine(lake.DataDirectory, LakeLayout.SilverFile(PayloadType.VitalSigns, Day))).SelectMany(g => g)];

    [Fact]
    public async Task Duplicate_message_id_is_stored_once()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        var message = AllVitals(patient, TestLake.Site, Clinical);
        lake.WriteBronze(Received, [message, message.DeepClone().AsObject()]);

        var run = await lake.RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal("succeeded", run.Status);
        Assert.Single(Vitals(lake));
        Assert.Equal(1, run.Details["duplicates.message_id"]);
        Assert.Equal(2, run.RowsIn);
        Assert.Equal(1, run.RowsOut);
    }

    [Fact]
    public async Task Same_patient_timestamp_and_site_is_stored_once_and_another_site_is_not_a_duplicate()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        lake.WriteBronze(Received, [AllVitals(patient, TestLake.Site, Clinical, 80), AllVitals(patient, "SITE002", Clinical, 85)]);
        lake.WriteBronze(Received.AddSeconds(1), [AllVitals(patient, TestLake.Site, Clinical, 90)]); // received later: the copy that goes

        var run = await lake.RunAsync(BronzeToSilverJob.JobName);

        var rows = Vitals(lake);
        Assert.Equal(2, rows.Count);
        Assert.Equal([80.0, 85.0], rows.Select(r => r.HeartRate!.Value).Order());
        Assert.Equal(1, run.Details["duplicates.natural_key"]);
    }

    [Fact]
    public async Task Lab_units_are_standardised_with_the_value_as_sent_kept_beside()
    {
        using var lake = new TestLake();
        lake.WriteBronze(Received, [Labs(NewPatientId(), TestLake.Site, Clinical, ("GLUC", 5.5, "mmol/L"), ("CREAT", 88.4, "umol/L"))]);

        await lake.RunAsync(BronzeToSilverJob.JobName);

        var rows = LabTable.Instance.Read(Path.Combine(lake.DataDirectory, LakeLayout.SilverFile(PayloadType.LabResults, Day))).SelectMany(g => g).ToList();
        var glucose = rows.Single(r => r.TestCode == "GLUC");
        Assert.Equal("mg/dL", glucose.Unit);
        Assert.Equal(99.1, glucose.Value!.Value, 0.1);
        Assert.Equal((5.5, "mmol/L"), (glucose.OriginalValue, glucose.OriginalUnit));
        Assert.Equal(1.0, rows.Single(r => r.TestCode == "CREAT").Value!.Value, 0.01);
    }

    [Fact]
    public async Task Flagged_and_qualitative_results_reach_silver_with_their_flag_text_and_specimen()
    {
        using var lake = new TestLake();
        var message = Labs(NewPatientId(), TestLake.Site, Clinical, ("GLUC", 90, "mg/dL"), ("XYZ", 3, "mg/dL"), ("K", 4, "stones"));
        message["lab_results"]!["results"]!.AsArray().Add(new JsonObject { ["test_code"] = "KETONES", ["specimen"] = "URINE", ["value"] = "small" });
        message["lab_results"]!["results"]!.AsArray().Add(new JsonObject { ["test_code"] = "GLUC", ["specimen"] = "URINE", ["value"] = "NEGATIVE" });
        lake.WriteBronze(Received, [message]);

        await lake.RunAsync(BronzeToSilverJob.JobName);

        var rows = LabTable.Instance.Read(Path.Combine(lake.DataDirectory, LakeLayout.SilverFile(PayloadType.LabResults, Day))).SelectMany(g => g)
            .Select(r => (r.TestCode, r.Value, r.Unit, r.Text, r.Specimen, r.Flag)).Order().ToList();
        Assert.Equal(
            [
                ("GLUC", 0.0, null, "NEGATIVE", "URINE", null), ("GLUC", 90.0, "mg/dL", null, null, null), ("K", 4.0, "stones", null, null, "unknown_unit"),
                ("KETONES", 2.0, null, "1+", "URINE", null), ("XYZ", 3.0, "mg/dL", null, null, "unknown_test"),
            ],
            rows.Select(r => (r.TestCode, r.Value, r.Unit, r.Text, r.Specimen, r.Flag)));
    }

    [Fact]
    public async Task Derived_metrics_are_computed()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        lake.WriteBronze(Received, [AllVitals(patient, TestLake.Site, Clinical, 100, systolic: 130, diastolic: 70), Demographics(patient, TestLake.Site, Clinical, 61)]);

        await lake.RunAsync(BronzeToSilverJob.JobName);

        var vitals = Vitals(lake).Single();
        Assert.Equal(60, vitals.PulsePressure);
        Assert.Equal(90, vitals.MeanArterialPressure);
        var demographics = DemographicsTable.Instance.Read(Path.Combine(lake.DataDirectory, LakeLayout.SilverFile(PayloadType.PatientDemographics, Day))).Single().Single();
        Assert.Equal(64.5 / (1.68 * 1.68), demographics.Bmi!.Value, 3); // TestMessages: 64.5 kg, 168 cm
        Assert.Equal(DateOnly.FromDateTime(Clinical.UtcDateTime.AddDays(-30)), demographics.EnrollmentDate);
    }

    [Fact]
    public async Task Stored_messages_are_not_judged_again_and_unreadable_ones_are_counted_by_reason()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        // Lines written before the rules were recorded: what today's rules would reject was accepted under looser ones,
        // and reads as sent (README, "Stored data reads back as it was accepted"); only a shape that cannot be read is rejected.
        var outOfRange = AllVitals(patient, TestLake.Site, Clinical, 900);
        outOfRange["vital_signs"] = new JsonObject { ["patient_id"] = patient, ["heart_rate"] = 900 };
        var unreadable = AllVitals(patient, TestLake.Site, Clinical.AddMinutes(3));
        unreadable["vital_signs"]!["heart_rate"] = "fast";
        var badUnit = Labs(patient, TestLake.Site, Clinical.AddMinutes(2), ("GLUC", 5, "furlongs"), ("K", 4, "mmol/L"));
        lake.WriteBronze(Received, [outOfRange, unreadable, badUnit, AllVitals(patient, TestLake.Site, Clinical.AddMinutes(1))]);

        var run = await lake.RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal(1, run.Details["rejected"]);
        Assert.Equal(1, run.Details["rejected.type.vital_signs.heart_rate"]);
        Assert.Equal(1, run.Details["result_issue.unknown_unit.lab_results.results[].unit"]);
        Assert.Equal([900, 80], Vitals(lake).OrderBy(v => v.Timestamp).Select(v => v.HeartRate));
    }

    [Fact]
    public async Task Torn_last_line_of_a_sealed_file_is_skipped_and_counted()
    {
        using var lake = new TestLake();
        var path = lake.WriteBronze(Received, [AllVitals(NewPatientId(), TestLake.Site, Clinical)]);
        File.AppendAllText(path, "{\"message_id\":\"6f1c3f9e-1c5b-4a53-9d1a-0b0c4c7d2e11\",\"received_at\":\"2026-03-");

        var run = await lake.RunAsync(BronzeToSilverJob.JobName);
        var again = await lake.RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal(1, run.Details["torn_lines"]);
        Assert.Single(Vitals(lake));
        Assert.Equal(0, again.RowsIn);
    }

    [Fact]
    public async Task Incomplete_tail_of_an_open_file_waits_for_the_next_run()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        var path = lake.WriteBronze(TestLake.Now, [AllVitals(patient, TestLake.Site, Clinical)]); // this hour: still being written
        var second = new BronzeLine(AllVitals(patient, TestLake.Site, Clinical.AddMinutes(5)), TestLake.Now);
        File.AppendAllText(path, second.Text[..40]);

        var first = await lake.RunAsync(BronzeToSilverJob.JobName);
        File.AppendAllText(path, second.Text[40..]);
        var next = await lake.RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal(1, first.RowsIn);
        Assert.False(first.Details.ContainsKey("torn_lines"));
        Assert.Equal(1, next.RowsIn);
        Assert.Equal(2, Vitals(lake).Count);
    }

    [Fact]
    public async Task Second_run_reads_only_the_new_bytes()
    {
        using var lake = new TestLake();
        var patient = NewPatientId();
        lake.WriteBronze(Received, [.. Enumerable.Range(0, 10).Select(i => AllVitals(patient, TestLake.Site, Clinical.AddMinutes(i)))]);
        var first = await lake.RunAsync(BronzeToSilverJob.JobName);

        lake.WriteBronze(Received, [.. Enumerable.Range(10, 3).Select(i => AllVitals(patient, TestLake.Site, Clinical.AddMinutes(i)))]);
        var second = await lake.RunAsync(BronzeToSilverJob.JobName);
        var third = await lake.RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal((10, 10), (first.RowsIn, first.RowsOut));
        Assert.Equal((3, 3), (second.RowsIn, second.RowsOut));
        Assert.Equal((0, 0), (third.RowsIn, third.RowsOut));
        Assert.Equal(13, Vitals(lake).Count);
    }

    [Fact]
    public async Task Re_running_over_the_same_bronze_writes_identical_files()
    {
        using var lake = new TestLake();
        var patients = Enumerable.Range(0, 5).Select(_ => NewPatientId()).ToList();
        lake.WriteBronze(Received, [.. patients.SelectMany((p, i) => new[]
        {
            AllVitals(p, TestLake.Site, Clinical.AddMinutes(i)), Labs(p, TestLake.Site, Clinical.AddHours(i), ("HGB", 13, "g/dL")),
            Demographics(p, TestLake.Site, Clinical, 61), AdverseEvent("Nausea", p, TestLake.Site, Clinical.AddHours(2), onset: Clinical.AddHours(1)),
        })]);
        await lake.RunAsync(BronzeToSilverJob.JobName);
        var before = lake.Snapshot("processed");

        // Forget all progress: the whole bronze is read again and merged into the existing files.
        File.Delete(Path.Combine(lake.DataDirectory, "lake.db"));
        var rerun = await new TestLake.Rerun(lake).RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal(0, rerun.RowsOut);
        Assert.Equal(before.Keys.Order(), lake.Snapshot("processed").Keys.Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(Path.Combine(lake.DataDirectory, file.Key))));
    }

    [Fact]
    public async Task A_crash_mid_run_leaves_no_partial_file_and_the_next_run_completes_it()
    {
        using var clean = new TestLake();
        using var lake = new TestLake(storage: null);
        var crashing = new CrashingStorage(new LocalLakeStorage(lake.DataDirectory), failAfter: 1);
        using var crashLake = new TestLake.Rerun(lake, crashing);
        var patient = NewPatientId();
        List<System.Text.Json.Nodes.JsonObject> messages =
            [AllVitals(patient, TestLake.Site, Clinical), Labs(patient, TestLake.Site, Clinical, ("HGB", 13, "g/dL")), Demographics(patient, TestLake.Site, Clinical, 61)];
        lake.WriteBronze(Received, messages.Select(m => m.DeepClone().AsObject()));
        clean.WriteBronze(Received, messages.Select(m => m.DeepClone().AsObject()));

        var crashed = await crashLake.RunAsync(BronzeToSilverJob.JobName);
        var files = lake.Snapshot("processed");
        var recovered = await new TestLake.Rerun(lake).RunAsync(BronzeToSilverJob.JobName);
        await clean.RunAsync(BronzeToSilverJob.JobName);

        Assert.Equal("failed", crashed.Status);
        Assert.Single(files); // the one stored before the crash, whole; nothing half-written
        Assert.Empty(Directory.GetFiles(Path.Combine(lake.DataDirectory, "processed"), "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(3, recovered.RowsIn);
        var expected = clean.Snapshot("processed");
        Assert.Equal(expected.Keys.Order(), lake.Snapshot("processed").Keys.Order());
        Assert.All(expected, file => Assert.Equal(file.Value, File.ReadAllBytes(Path.Combine(lake.DataDirectory, file.Key))));
    }

    private sealed record BronzeLine(System.Text.Json.Nodes.JsonObject Message, DateTimeOffset ReceivedAt)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(new Domain.Lake.BronzeRecord(
            Guid.Parse((string)Message["message_id"]!), ReceivedAt, System.Text.Encoding.UTF8.GetBytes(Message.ToJsonString()), []).ToLine());
    }

    /// <summary>Stores <paramref name="failAfter"/> files, then fails as a process killed mid-run would.</summary>
    private sealed class CrashingStorage(ILakeStorage inner, int failAfter) : ILakeStorage
    {
        private int _stored;

        public string Description => inner.Description;

        public string ScratchDirectory => inner.ScratchDirectory;

        public Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _stored) > failAfter ? throw new IOException("simulated crash") : inner.PutFileAsync(key, sourcePath, cancellationToken);

        public Task PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutBytesAsync(key, content, cancellationToken);

        public Task CopyFromAsync(string key, string sourcePath, CancellationToken cancellationToken = default) => inner.CopyFromAsync(key, sourcePath, cancellationToken);

        public Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default) => inner.GetBytesAsync(key, cancellationToken);

        public Task<LocalFileLease?> OpenLocalAsync(string key, CancellationToken cancellationToken = default) => inner.OpenLocalAsync(key, cancellationToken);

        public IAsyncEnumerable<LakeObject> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }
}
