using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer.Tests;

public sealed class BoostedTreeModelTests
{
    /// <summary>A weak signal in column 0 under heavy label noise, 10 % missing values: deep trees at a high rate overfit it fast.</summary>
    private static List<(float[] Features, bool Label)> NoisyRows(int seed, int count)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var x = Enumerable.Range(0, 6).Select(_ => random.NextDouble() < 0.1 ? float.NaN : (float)random.NextDouble()).ToArray();
            var signal = float.IsNaN(x[0]) ? 0.5 : x[0];
            return (x, random.NextDouble() < 0.1 + 0.3 * signal);
        })];
    }

    private static readonly TrainerParameters Overfitting = new(Seed: 3, Trees: 300, Leaves: 31, MinimumExamplesPerLeaf: 2, LearningRate: 0.5, EarlyStoppingRounds: 5,
        WithheldFeatures: []);

    [Theory]
    [InlineData(TreeAlgorithm.FastTree)]
    [InlineData(TreeAlgorithm.LightGbm)]
    public void Early_stopping_on_validation_rows_stops_boosting_before_the_ceiling(TreeAlgorithm algorithm)
    {
        var parameters = Overfitting with { Algorithm = algorithm };

        var unstopped = BoostedTreeModel.Train(NoisyRows(1, 3000), 6, parameters);
        var stopped = BoostedTreeModel.Train(NoisyRows(1, 3000), 6, parameters, validation: NoisyRows(2, 1500));

        Assert.Equal(300, unstopped.Trees);
        Assert.InRange(stopped.Trees, 1, 100);
    }

    [Fact]
    public void Lightgbm_exports_onnx_that_scores_like_mlnet_missing_values_included()
    {
        var rows = NoisyRows(4, 2000);
        var model = BoostedTreeModel.Train(rows, 6, new TrainerParameters(Seed: 2, Trees: 40, Leaves: 8, MinimumExamplesPerLeaf: 10, Algorithm: TreeAlgorithm.LightGbm,
            WithheldFeatures: []));
        var names = Enumerable.Range(0, 6).Select(i => $"f{i}").ToArray();
        var metadata = new ModelMetadata("v-lgbm", "test", DateTimeOffset.UnixEpoch, "test", names, BoostedTreeModel.FeaturesColumn,
            BoostedTreeModel.ProbabilityColumn + ".output", new TrainingDataSummary("test", default, default, 0, 0, 0, "", new Dictionary<string, int>(), new Dictionary<string, long>()),
            new Dictionary<string, EvaluationMetrics>(), new Dictionary<string, string>(), null, "run");

        using var onnx = OnnxModel.LoadWithoutFeatureCheck(metadata, model.ToOnnx());
        var sample = rows.Take(500).Select(r => r.Features).ToList();
        var expected = model.Predict(sample);
        var actual = onnx.Score([.. sample.SelectMany(f => f)], sample.Count);

        Assert.Contains(sample, f => f.Any(float.IsNaN));
        Assert.True(expected.Distinct().Count() > 10, "the model should not be constant");
        Assert.All(expected.Zip(actual), p => Assert.Equal(p.First, p.Second, 1e-5));
    }

    [Fact]
    public void Lightgbm_gives_the_same_model_bytes_for_the_same_rows_and_seed()
    {
        var parameters = new TrainerParameters(Seed: 9, Trees: 30, Leaves: 8, MinimumExamplesPerLeaf: 10, Algorithm: TreeAlgorithm.LightGbm, WithheldFeatures: []);

        var first = BoostedTreeModel.Train(NoisyRows(7, 2000), 6, parameters, validation: NoisyRows(8, 500)).ToOnnx();
        var second = BoostedTreeModel.Train(NoisyRows(7, 2000), 6, parameters, validation: NoisyRows(8, 500)).ToOnnx();

        Assert.Equal(first, second);
    }

    [Fact]
    public void A_platt_refit_on_held_out_margins_is_carried_by_the_onnx_graph()
    {
        var rows = NoisyRows(5, 2000);
        var model = BoostedTreeModel.Train(rows, 6, new TrainerParameters(Seed: 2, Trees: 40, Leaves: 8, MinimumExamplesPerLeaf: 10, WithheldFeatures: []));
        var heldOut = NoisyRows(6, 1000);
        var features = heldOut.Select(r => r.Features).ToList();
        var refit = model.WithPlattFittedTo(model.Margins(features), [.. heldOut.Select(r => r.Label)]);
        var names = Enumerable.Range(0, 6).Select(i => $"f{i}").ToArray();
        var metadata = new ModelMetadata("v-platt", "test", DateTimeOffset.UnixEpoch, "test", names, BoostedTreeModel.FeaturesColumn,
            BoostedTreeModel.ProbabilityColumn + ".output", new TrainingDataSummary("test", default, default, 0, 0, 0, "", new Dictionary<string, int>(), new Dictionary<string, long>()),
            new Dictionary<string, EvaluationMetrics>(), new Dictionary<string, string>(), null, "run");

        using var onnx = OnnxModel.LoadWithoutFeatureCheck(metadata, refit.ToOnnx());
        var expected = refit.Predict(features);
        var actual = onnx.Score([.. features.SelectMany(f => f)], features.Count);

        Assert.Equal("platt-validation", refit.Calibration);
        Assert.NotEqual(model.Predict(features), expected);
        Assert.All(expected.Zip(actual), p => Assert.Equal(p.First, p.Second, 1e-5));
    }
}
