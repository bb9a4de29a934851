using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace ClinicalTrials.Trainer.Training;

/// <summary>
/// Gradient-boosted trees (ML.NET FastTree) over a float feature vector, with Platt calibration so the score is a
/// probability, and its export to ONNX. FastTree rather than LightGBM: it needs no native OpenMP runtime and is
/// deterministic under a seed.
/// </summary>
public sealed class BoostedTreeModel
{
    public const string FeaturesColumn = "Features";
    public const string LabelColumn = "Label";
    public const string ProbabilityColumn = "Probability";

    private readonly MLContext _ml;
    private readonly TransformerChain<BinaryPredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>>> _model;
    private readonly int _featureCount;

    private BoostedTreeModel(MLContext ml, TransformerChain<BinaryPredictionTransformer<CalibratedModelParametersBase<FastTreeBinaryModelParameters, PlattCalibrator>>> model, int featureCount)
    {
        _ml = ml;
        _model = model;
        _featureCount = featureCount;
    }

    /// <summary>
    /// Trains on <paramref name="rows"/> (features and label); <paramref name="log"/> receives ML.NET's progress lines.
    /// The columns in <paramref name="withheld"/> are shown to the trees as a constant, so no split can use them: the
    /// model keeps the catalogue's input (the same vector online and offline) but does not learn from them.
    /// </summary>
    public static BoostedTreeModel Train(IReadOnlyList<(float[] Features, bool Label)> rows, int featureCount, TrainerParameters parameters, Action<string>? log = null,
        IReadOnlySet<int>? withheld = null)
    {
        var ml = new MLContext(parameters.Seed);
        if (log is not null)
        {
            ml.Log += (_, e) =>
            {
                if (e.Kind is Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.Contains("FastTree", StringComparison.Ordinal))
                {
                    log(e.RawMessage);
                }
            };
        }

        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new LabelledRow { Features = Withhold(r.Features, withheld), Label = r.Label }), Schema<LabelledRow>(featureCount));
        // FastTree skips every row with a NaN feature, and nearly every row misses some window. A missing value becomes 0
        // inside the model (the ONNX graph too, as an Imputer node), so callers keep sending NaN. For the windowed
        // features the window's count (0 exactly when the values are missing) tells the trees what a 0 means.
        var impute = ml.Transforms.ReplaceMissingValues(FeaturesColumn, replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.DefaultValue);
        var trainer = ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            FeatureColumnName = FeaturesColumn,
            LabelColumnName = LabelColumn,
            NumberOfTrees = parameters.Trees,
            NumberOfLeaves = parameters.Leaves,
            MinimumExampleCountPerLeaf = parameters.MinimumExamplesPerLeaf,
            LearningRate = parameters.LearningRate,
            MaximumBinCountPerFeature = parameters.MaximumBins,
            NumberOfThreads = parameters.Threads,
            Seed = parameters.Seed,
            FeatureFraction = 1.0,
        });
        return new BoostedTreeModel(ml, impute.Append(trainer).Fit(data), featureCount);
    }

    private static float[] Withhold(float[] features, IReadOnlySet<int>? withheld)
    {
        if (withheld is not { Count: > 0 })
        {
            return features;
        }

        // A copy: the caller's rows still feed the reference distributions and the evaluation.
        var copy = (float[])features.Clone();
        foreach (var column in withheld)
        {
            copy[column] = 0;
        }

        return copy;
    }

    /// <summary>Calibrated probabilities from ML.NET itself, in row order.</summary>
    public float[] Predict(IReadOnlyList<float[]> features)
    {
        var data = _ml.Data.LoadFromEnumerable(features.Select(f => new FeatureRow { Features = f }), Schema<FeatureRow>(_featureCount));
        return [.. _model.Transform(data).GetColumn<float>(ProbabilityColumn)];
    }

    /// <summary>Gain-based importance per feature, in feature order.</summary>
    public float[] FeatureImportance()
    {
        var weights = default(VBuffer<float>);
        _model.LastTransformer.Model.SubModel.GetFeatureWeights(ref weights);
        var dense = new float[_featureCount];
        weights.CopyTo(dense);
        return dense;
    }

    /// <summary>
    /// The model as ONNX. The converter is given a view with the feature column only: given the label too, it would make
    /// <c>Label</c> a required graph input. Outputs are named after ML.NET's columns plus <c>.output</c>.
    /// </summary>
    public byte[] ToOnnx()
    {
        var schemaOnly = _ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), Schema<FeatureRow>(_featureCount));
        using var stream = new MemoryStream();
        _ml.Model.ConvertToOnnx(_model, schemaOnly, stream);
        return stream.ToArray();
    }

    private static SchemaDefinition Schema<T>(int featureCount)
    {
        var schema = SchemaDefinition.Create(typeof(T));
        schema[FeaturesColumn].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
        return schema;
    }

    private sealed class LabelledRow
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }
}
