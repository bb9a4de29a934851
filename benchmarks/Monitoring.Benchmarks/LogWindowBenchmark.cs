using System.Collections.Immutable;
using System.Diagnostics;
using System.Runtime.InteropServices;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Benchmarks.Monitoring;

/// <summary>
/// Writes a synthetic prediction log (one model version, uniform features and scores, a label on every tenth prediction)
/// into a SQLite tracking store, then times reading the model's window back through <see cref="ITrackingStore.ReadWindowAsync"/>
/// into a <see cref="ModelWindow"/> and the report, with the process's peak memory.
/// </summary>
internal static class LogWindowBenchmark
{
    public static async Task RunAsync(string directory, long rows, int features, int seed)
    {
        Directory.CreateDirectory(directory);
        var store = new SqliteTrackingStore(Path.Combine(directory, TrackingStore.SqliteFileName));
        await store.InitializeAsync();
        var random = new Random(seed);
        var start = DateTimeOffset.UtcNow.AddDays(-6);
        var write = Stopwatch.StartNew();
        var batch = new List<PredictionRecord>(2000);
        var outcomes = new List<PredictionOutcome>(200);
        for (long i = 0; i < rows; i++)
        {
            var values = new double[features];
            for (var f = 0; f < features; f++)
            {
                values[f] = f % 4 == 0 && random.NextDouble() < 0.2 ? double.NaN : random.NextDouble() * 100;
            }

            var score = random.NextDouble();
            var record = new PredictionRecord(Guid.NewGuid(), $"PT{i % 5000:D8}", start.AddSeconds(i * 0.5), score, score >= 0.6 ? "HIGH" : score >= 0.3 ? "MEDIUM" : "LOW",
                "bench", 1, "v1", start, ImmutableCollectionsMarshal.AsImmutableArray(values));
            batch.Add(record);
            if (i % 10 == 0)
            {
                outcomes.Add(new PredictionOutcome(record.Id, random.NextDouble() < score ? OutcomeLabel.Positive : OutcomeLabel.Negative, null, DateTimeOffset.UtcNow));
            }

            if (batch.Count == 2000 || i == rows - 1)
            {
                await store.WritePredictionsAsync(batch);
                await store.WriteOutcomesAsync(outcomes);
                batch.Clear();
                outcomes.Clear();
            }
        }

        write.Stop();
        var sample = Enumerable.Range(0, 5000).Select(_ => (float)(random.NextDouble() * 100)).ToArray();
        var reference = new TrainingReference(
            [.. Enumerable.Range(0, features).Select(f => ReferenceDistribution.FromSample($"feature_{f}", sample))],
            ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, sample.Select(v => v / 100)));
        var read = Stopwatch.StartNew();
        var window = new ModelWindow("bench", reference, _ => null);
        await foreach (var prediction in store.ReadWindowAsync("bench", start.AddSeconds(-1), DateTimeOffset.UtcNow))
        {
            window.Add(prediction);
        }

        var report = window.Report(new MonitoringPolicy(200, 20, 0.8, 0.25, 0.2));
        read.Stop();
        Console.WriteLine($"log: {rows:N0} predictions x {features} features written in {write.Elapsed.TotalSeconds:0.0} s ({new FileInfo(Path.Combine(directory, TrackingStore.SqliteFileName)).Length / 1024 / 1024:N0} MiB)");
        Console.WriteLine($"window read into ModelWindow + report: {read.Elapsed.TotalSeconds:0.0} s ({report.Predictions / read.Elapsed.TotalSeconds:N0} predictions/s); labelled {report.Performance.Labelled:N0}, AUROC {report.Performance.Auroc:0.000}");
        Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024:N0} MiB");
    }
}
