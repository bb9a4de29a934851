using System.Diagnostics;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer;

/// <summary>
/// <c>benchmark</c>: training time on synthetic rows of the production width (327 features), with a learnable signal in
/// a few columns and 30 % missing values, so the trees do real work. Then the in-process scoring latency of the exported
/// model: single rows through <see cref="OnnxModel.Score(ReadOnlySpan{double})"/>, as the scoring grain calls it.
/// Prints one line per phase.
/// </summary>
public static class TrainingBenchmark
{
    public static int Run(int rows, int features, TrainerParameters parameters)
    {
        var random = new Random(parameters.Seed);
        var stopwatch = Stopwatch.StartNew();
        var data = new (float[] Features, bool Label)[rows];
        for (var r = 0; r < rows; r++)
        {
            var x = new float[features];
            for (var f = 0; f < features; f++)
            {
                x[f] = random.NextDouble() < 0.3 ? float.NaN : (float)random.NextDouble();
            }

            var signal = (float.IsNaN(x[0]) ? 0.5 : x[0]) + (float.IsNaN(x[1]) ? 0.5 : x[1]) - (float.IsNaN(x[2]) ? 0.5 : x[2]);
            data[r] = (x, random.NextDouble() < 1 / (1 + Math.Exp(-4 * (signal - 0.8))));
        }

        Console.WriteLine($"generated {rows:N0} x {features} in {stopwatch.Elapsed.TotalSeconds:0.0} s");
        stopwatch.Restart();
        var model = BoostedTreeModel.Train(data, features, parameters);
        Console.WriteLine($"trained {parameters.Trees} trees x {parameters.Leaves} leaves in {stopwatch.Elapsed.TotalSeconds:0.0} s ({Environment.ProcessorCount} cores)");
        stopwatch.Restart();
        var onnx = model.ToOnnx();
        Console.WriteLine($"exported ONNX ({onnx.Length / 1024} KiB) in {stopwatch.Elapsed.TotalSeconds:0.0} s");

        var names = Enumerable.Range(0, features).Select(i => $"f{i}").ToArray();
        var metadata = new ModelMetadata("benchmark", ModelArtifacts.ModelName, DateTimeOffset.UtcNow, "benchmark", names,
            BoostedTreeModel.FeaturesColumn, BoostedTreeModel.ProbabilityColumn + ".output",
            new TrainingDataSummary("synthetic", default, default, rows, 0, 0, "", new Dictionary<string, int>(), new Dictionary<string, long>()),
            new Dictionary<string, EvaluationMetrics>(), parameters.ToDictionary(), null, "benchmark");
        using var scorer = OnnxModel.LoadWithoutFeatureCheck(metadata, onnx);
        var vectors = data.Take(1000).Select(d => d.Features.Select(f => (double)f).ToArray()).ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            scorer.Score(vectors[i % vectors.Length]); // warm-up: tiered JIT, ONNX Runtime's first-run allocations
        }

        const int Calls = 100_000;
        var latencies = new double[Calls];
        for (var i = 0; i < Calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            scorer.Score(vectors[i % vectors.Length]);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        Array.Sort(latencies);
        Console.WriteLine($"scoring one row ({Calls:N0} calls): p50 {latencies[Calls / 2]:0.0} µs, p99 {latencies[(int)(Calls * 0.99)]:0.0} µs, p99.9 {latencies[(int)(Calls * 0.999)]:0.0} µs, max {latencies[^1]:0.0} µs");
        return 0;
    }
}
