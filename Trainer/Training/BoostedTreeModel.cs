using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace ClinicalTrials.Trainer.Training;

/// <summary>The gradient-boosting implementation a run trains with.</summary>
public enum TreeAlgorithm
{
    /// <summary>ML.NET's own FastTree: managed, deterministic under a seed.</summary>
    FastTree,

    /// <summary>Microsoft's LightGBM through ML.NET: native, needs OpenMP's runtime (Debian's libgomp1).</summary>
    LightGbm,
}

/// <summary>
/// Gradient-boosted trees (ML.NET FastTree or LightGBM) over a float feature vector, with a calibrator so the score is a
/// probability, and their export to ONNX. Both algorithms end in the same ONNX shape (an imputer, a tree ensemble, a
/// sigmoid), which the served path scores alike.
/// </summary>
public sealed class BoostedTreeModel
{
    public const string FeaturesColumn = "Features";
    public const string LabelColumn = "Label";
    public const string ScoreColumn = "Score";
    public const string ProbabilityColumn = "Probability";

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly TreeEnsembleModelParametersBasedOnRegressionTree _trees;
    private readonly int _featureCount;

    private BoostedTreeModel(MLContext ml, ITransformer model, TreeEnsembleModelParametersBasedOnRegressionTree trees, int featureCount, string calibration)
    {
        _ml = ml;
        _model = model;
        _trees = trees;
        _featureCount = featureCount;
        Calibration = calibration;
    }

    /// <summary>Trees in the ensemble: fewer than asked for when early stopping on the validation rows cut it short.</summary>
    public int Trees => _trees.TrainedTreeEnsemble.Trees.Count;

    /// <summary>How the probability is calibrated: <c>platt-train</c> (the trainer's own Platt fit on the training rows) or <c>platt-validation</c>.</summary>
    public string Calibration { get; }

    /// <summary>
    /// Trains on <paramref name="rows"/> (features and label); <paramref name="log"/> receives ML.NET's progress lines.
    /// The columns in <paramref name="withheld"/> are shown to the trees as a constant, so no split can use them: the
    /// model keeps the catalogue's input (the same vector online and offline) but does not learn from them. With
    /// <paramref name="validation"/> rows, boosting stops once the validation AUROC (LightGBM) or loss (FastTree, whose
    /// only stopping rules are on the loss) has not improved for
    /// <see cref="TrainerParameters.EarlyStoppingRounds"/> trees, and the ensemble is cut back to its best tree count.
    /// </summary>
    public static BoostedTreeModel Train(IReadOnlyList<(float[] Features, bool Label)> rows, int featureCount, TrainerParameters parameters, Action<string>? log = null,
        IReadOnlySet<int>? withheld = null, IReadOnlyList<(float[] Features, bool Label)>? validation = null)
    {
        var ml = new MLContext(parameters.Seed);
        if (log is not null)
        {
            ml.Log += (_, e) =>
            {
                if (e.Kind is Microsoft.ML.Runtime.ChannelMessageKind.Info && (e.Source.Contains("FastTree", StringComparison.Ordinal) || e.Source.Contains("LightGBM", StringComparison.OrdinalIgnoreCase)))
                {
                    log(e.RawMessage);
                }
            };
        }

        var data = Load(ml, rows, withheld, featureCount);
        // FastTree skips every row with a NaN feature, and nearly every row misses some window. A missing value becomes 0
        // inside the model (the ONNX graph too, as an Imputer node), so callers keep sending NaN. For the windowed
        // features the window's count (0 exactly when the values are missing) tells the trees what a 0 means. LightGBM
        // gets the same input, so the two algorithms learn from the same vectors.
        var impute = ml.Transforms.ReplaceMissingValues(FeaturesColumn, replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.DefaultValue)
            .Fit(data);
        var train = impute.Transform(data);
        var valid = validation is { Count: > 0 } ? impute.Transform(Load(ml, validation, withheld, featureCount)) : null;
        var (booster, trees) = parameters.Algorithm switch
        {
            TreeAlgorithm.FastTree => FitFastTree(ml, parameters, train, valid),
            TreeAlgorithm.LightGbm => FitLightGbm(ml, parameters, train, valid),
            _ => throw new ArgumentOutOfRangeException(nameof(parameters), parameters.Algorithm, "Unknown algorithm."),
        };
        return new BoostedTreeModel(ml, new TransformerChain<ITransformer>(impute, booster), trees, featureCount, "platt-train");
    }

    private static (ITransformer, TreeEnsembleModelParametersBasedOnRegressionTree) FitFastTree(MLContext ml, TrainerParameters parameters, IDataView train, IDataView? valid)
    {
        var options = new FastTreeBinaryTrainer.Options
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
        };
        if (valid is null)
        {
            var fitted = ml.BinaryClassification.Trainers.FastTree(options).Fit(train);
            return (fitted, fitted.Model.SubModel);
        }

        // FastTree's early stopping: stop once the validation loss has risen for EarlyStoppingRounds trees in a row;
        // pruning then drops the trees after the best validation loss (without it the last trees would stay).
        options.EarlyStoppingRule = new ConsecutiveGeneralityLossRule(parameters.EarlyStoppingRounds);
        options.EarlyStoppingMetric = EarlyStoppingMetric.L2Norm;
        options.EnablePruning = true;
        var stopped = ml.BinaryClassification.Trainers.FastTree(options).Fit(train, valid);
        return (stopped, stopped.Model.SubModel);
    }

    private static (ITransformer, TreeEnsembleModelParametersBasedOnRegressionTree) FitLightGbm(MLContext ml, TrainerParameters parameters, IDataView train, IDataView? valid)
    {
        var options = new LightGbmBinaryTrainer.Options
        {
            FeatureColumnName = FeaturesColumn,
            LabelColumnName = LabelColumn,
            NumberOfIterations = parameters.Trees,
            NumberOfLeaves = parameters.Leaves,
            MinimumExampleCountPerLeaf = parameters.MinimumExamplesPerLeaf,
            LearningRate = parameters.LearningRate,
            MaximumBinCountPerFeature = parameters.MaximumBins,
            NumberOfThreads = parameters.Threads,
            Seed = parameters.Seed,
            // LightGBM is reproducible under a seed only with deterministic histograms.
            Deterministic = true,
            Silent = true,
            // Stopping on the validation AUROC, not the loss: with rare positives the loss is lowest after a few trees while
            // the ranking still improves for many more (docs/model-quality.md); calibration is fitted afterwards anyway.
            EvaluationMetric = LightGbmBinaryTrainer.Options.EvaluateMetricType.AreaUnderCurve,
            EarlyStoppingRound = valid is null ? 0 : parameters.EarlyStoppingRounds,
        };
        var trainer = ml.BinaryClassification.Trainers.LightGbm(options);
        var fitted = valid is null ? trainer.Fit(train) : trainer.Fit(train, valid);
        return (fitted, fitted.Model.SubModel);
    }

    private static IDataView Load(MLContext ml, IReadOnlyList<(float[] Features, bool Label)> rows, IReadOnlySet<int>? withheld, int featureCount) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new LabelledRow { Features = Withhold(r.Features, withheld), Label = r.Label }), Schema<LabelledRow>(featureCount));

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
    public float[] Predict(IReadOnlyList<float[]> features) => Column(features, ProbabilityColumn);

    /// <summary>The ensemble's raw scores (log-odds before calibration), in row order.</summary>
    public float[] Margins(IReadOnlyList<float[]> features) => Column(features, ScoreColumn);

    private float[] Column(IReadOnlyList<float[]> features, string column)
    {
        var data = _ml.Data.LoadFromEnumerable(features.Select(f => new FeatureRow { Features = f }), Schema<FeatureRow>(_featureCount));
        return [.. _model.Transform(data).GetColumn<float>(column)];
    }

    /// <summary>
    /// The same trees with a Platt sigmoid fitted to <paramref name="margins"/> and <paramref name="labels"/> (held-out rows)
    /// in place of the one fitted on the training rows. Platt, because ML.NET can write it into the ONNX graph.
    /// </summary>
    public BoostedTreeModel WithPlattFittedTo(IReadOnlyList<float> margins, IReadOnlyList<bool> labels) =>
        new(_ml, new TransformerChain<ITransformer>(_model, FitCalibrator(_ml, CalibrationMethod.Platt, margins, labels)), _trees, _featureCount, "platt-validation");

    /// <summary>Fits a calibrator of <paramref name="method"/> to margins and labels.</summary>
    internal static ITransformer FitCalibrator(MLContext ml, CalibrationMethod method, IReadOnlyList<float> margins, IReadOnlyList<bool> labels)
    {
        var data = ml.Data.LoadFromEnumerable(margins.Select((m, i) => new MarginRow { Score = m, Label = labels[i] }));
        return method switch
        {
            CalibrationMethod.Platt => ml.BinaryClassification.Calibrators.Platt(LabelColumn, ScoreColumn).Fit(data),
            CalibrationMethod.Isotonic => ml.BinaryClassification.Calibrators.Isotonic(LabelColumn, ScoreColumn).Fit(data),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown calibration."),
        };
    }

    /// <summary>Probabilities a fitted calibrator gives <paramref name="margins"/>.</summary>
    internal static float[] ApplyCalibrator(MLContext ml, ITransformer calibrator, IReadOnlyList<float> margins)
    {
        var data = ml.Data.LoadFromEnumerable(margins.Select(m => new MarginRow { Score = m }));
        return [.. calibrator.Transform(data).GetColumn<float>(ProbabilityColumn)];
    }

    /// <summary>Gain-based importance per feature, in feature order.</summary>
    public float[] FeatureImportance()
    {
        var weights = default(VBuffer<float>);
        _trees.GetFeatureWeights(ref weights);
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

    private sealed class MarginRow
    {
        public float Score { get; set; }

        public bool Label { get; set; }
    }
}
