using System.Collections.Immutable;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Benchmarks.Monitoring;

/// <summary>
/// Writes a synthetic prediction log (one model version, uniform features, unlabelled; one patient in twenty has an
/// adverse event and scores higher) into a SQLite tracking store, labels the backlog as the run 6 h earlier would, then
/// times what a scheduled monitoring run does with it: the labelling pass (<see cref="OutcomeLabels.LabelLogAsync"/>)
/// and reading the model's window back through
/// <see cref="ITrackingStore.ReadWindowAsync"/> into a <see cref="ModelWindow"/> and the report, with the process's peak memory.
/// </summary>
internal static class LogWindowBenchmark
{
    private const int Patients = 5000;

    private static readonly LabelDefinition Label = new(LabelDefinition.AnyOutcome, 24, true);

    /// <summary>The monitoring default (<c>Monitoring:LabelGrace</c>).</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromHours(24);

    public static async Task RunAsync(string directory, long rows, int features, int seed)
    {
        Directory.CreateDirectory(directory);
        var store = new SqliteTrackingStore(Path.Combine(directory, TrackingStore.SqliteFileName));
        await store.InitializeAsync();
        var random = new Random(seed);
        var now = DateTimeOffset.UtcNow;
        var start = now.AddDays(-6);
        var span = TimeSpan.FromSeconds(rows * 0.5);
        var events = Enumerable.Range(0, Patients).Where(p => p % 20 == 0)
            .Select(p => new AdverseEvent(Patient(p), "SEPSIS", Severity.Severe, true, DrugRelation.NotRelated, start + span * random.NextDouble()))
            .ToList();
        var write = Stopwatch.StartNew();
        var batch = new List<PredictionRecord>(2000);
        for (long i = 0; i < rows; i++)
        {
            var values = new double[features];
            for (var f = 0; f < features; f++)
            {
                values[f] = f % 4 == 0 && random.NextDouble() < 0.2 ? double.NaN : random.NextDouble() * 100;
            }

            var patient = (int)(i % Patients);
            var score = patient % 20 == 0 ? 0.4 + 0.6 * random.NextDouble() : random.NextDouble();
            batch.Add(new PredictionRecord(Guid.NewGuid(), Patient(patient), start.AddSeconds(i * 0.5), score, score >= 0.6 ? "HIGH" : score >= 0.3 ? "MEDIUM" : "LOW",
                "bench", 1, "v1", start, ImmutableCollectionsMarshal.AsImmutableArray(values)));
            if (batch.Count == 2000 || i == rows - 1)
            {
                await store.WritePredictionsAsync(batch);
                batch.Clear();
            }
        }

        write.Stop();
        var sample = Enumerable.Range(0, 5000).Select(_ => (float)(random.NextDouble() * 100)).ToArray();
        var reference = new TrainingReference(
            [.. Enumerable.Range(0, features).Select(f => ReferenceDistribution.FromSample($"feature_{f}", sample))],
            ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, sample.Select(v => v / 100)));
        // The run before this one (6 h earlier, the default period) labelled the backlog of an unlabelled log; this run
        // labels what became due since, and reads every candidate again, as a scheduled run does.
        var backlog = Stopwatch.StartNew();
        var backlogLabels = await OutcomeLabels.LabelLogAsync(store, events, _ => Task.FromResult(Label), start.AddSeconds(-1), Grace, now.AddHours(-6), CancellationToken.None);
        backlog.Stop();
        var labelling = Stopwatch.StartNew();
        var labels = await OutcomeLabels.LabelLogAsync(store, events, _ => Task.FromResult(Label), start.AddSeconds(-1), Grace, now, CancellationToken.None);
        labelling.Stop();
        var read = Stopwatch.StartNew();
        var window = new ModelWindow("bench", reference, _ => null);
        await foreach (var prediction in store.ReadWindowAsync("bench", start.AddSeconds(-1), now))
        {
            window.Add(prediction);
        }

        var report = window.Report(new MonitoringPolicy(200, 20, 0.8, 0.25, 0.2));
        read.Stop();
        Console.WriteLine($"log: {rows:N0} predictions x {features} features written in {write.Elapsed.TotalSeconds:0.0} s ({new FileInfo(Path.Combine(directory, TrackingStore.SqliteFileName)).Length / 1024 / 1024:N0} MiB)");
        Console.WriteLine($"labelling the unlabelled log (the run 6 h before): {backlog.Elapsed.TotalSeconds:0.0} s; {backlogLabels.Examined:N0} examined, {backlogLabels.Labelled:N0} labelled, {backlogLabels.Pending:N0} pending, {backlogLabels.EventsRead:N0} events");
        Console.WriteLine($"labelling pass of this run: {labelling.Elapsed.TotalSeconds:0.0} s; {labels.Examined:N0} examined, {labels.Labelled:N0} labelled, {labels.Pending:N0} pending");
        Console.WriteLine($"window read into ModelWindow + report: {read.Elapsed.TotalSeconds:0.0} s ({report.Predictions / read.Elapsed.TotalSeconds:N0} predictions/s); labelled {report.Performance.Labelled:N0}, AUROC {report.Performance.Auroc:0.000}");
        Console.WriteLine($"this run, labelling + window: {(labelling.Elapsed + read.Elapsed).TotalSeconds:0.0} s");
        Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024:N0} MiB");
    }

    private static string Patient(int index) => $"PT{index:D8}";
}
