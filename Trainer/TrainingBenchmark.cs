using System.Diagnostics;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer;

/// <summary>
/// <c>benchmark</c>: training time on synthetic rows of the production width (327 features), with a learnable signal in
/// a few columns and 30 % missing values, so the trees do real work. Prints one line per phase.
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
        return 0;
    }
}
