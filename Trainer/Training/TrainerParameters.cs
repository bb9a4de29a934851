using System.Globalization;

namespace ClinicalTrials.Trainer.Training;

/// <summary>The gradient-boosted trees' settings and the seed that makes a run reproducible.</summary>
/// <param name="Seed">Seeds the split and ML.NET; the same data and seed give the same model bytes.</param>
/// <param name="Trees">Boosting iterations.</param>
/// <param name="Leaves">Leaves per tree.</param>
/// <param name="MinimumExamplesPerLeaf">Smallest leaf.</param>
/// <param name="LearningRate">Shrinkage.</param>
/// <param name="MaximumBins">Histogram bins per feature (fewer is faster on wide data).</param>
/// <param name="Threads">Training threads; null = ML.NET's choice (the core count).</param>
/// <param name="Algorithm">FastTree or LightGBM.</param>
/// <param name="EarlyStoppingRounds">
/// Boosting stops once the validation AUROC (LightGBM) or loss (FastTree) has not improved for this many trees (the
/// ensemble keeps its best count);
/// <see cref="Trees"/> is then the most it may grow.
/// </param>
/// <param name="Tuning">With <c>--tune</c>: the grid searched on the validation patients; null = train once with these values.</param>
/// <param name="WithheldFeatures">
/// Catalogue features the model does not learn from (still in its input); null = <see cref="IdentityAndTimeFeatures"/>.
/// </param>
public sealed record TrainerParameters(
    int Seed = 42,
    int Trees = 100,
    int Leaves = 31,
    int MinimumExamplesPerLeaf = 20,
    double LearningRate = 0.1,
    int MaximumBins = 64,
    int? Threads = null,
    IReadOnlyList<string>? WithheldFeatures = null,
    TreeAlgorithm Algorithm = TreeAlgorithm.FastTree,
    int EarlyStoppingRounds = 20,
    TuningGrid? Tuning = null)
{
    /// <summary>
    /// Withheld by default: features that let the trees recognise a patient (body size, constant for a patient and
    /// unique to a few digits) or read when the patient's data began rather than how they are (docs/synthetic-trial.md
    /// gives the reason for each, and for the features kept).
    /// </summary>
    public static readonly IReadOnlyList<string> IdentityAndTimeFeatures =
        ["weight_kg", "height_cm", "bmi", "days_since_enrollment", "hours_since_first_event"];

    /// <summary>The features withheld in this run.</summary>
    public IReadOnlyList<string> Withheld => WithheldFeatures ?? IdentityAndTimeFeatures;

    public IReadOnlyDictionary<string, string> ToDictionary() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["algorithm"] = AlgorithmName(Algorithm),
        ["early_stopping_rounds"] = EarlyStoppingRounds.ToString(CultureInfo.InvariantCulture),
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["trees"] = Trees.ToString(CultureInfo.InvariantCulture),
        ["leaves"] = Leaves.ToString(CultureInfo.InvariantCulture),
        ["min_examples_per_leaf"] = MinimumExamplesPerLeaf.ToString(CultureInfo.InvariantCulture),
        ["learning_rate"] = LearningRate.ToString(CultureInfo.InvariantCulture),
        ["max_bins"] = MaximumBins.ToString(CultureInfo.InvariantCulture),
        ["threads"] = Threads?.ToString(CultureInfo.InvariantCulture) ?? "auto",
        ["split"] = "70/15/15 by patient",
        ["withheld_features"] = Withheld.Count == 0 ? "none" : string.Join(",", Withheld),
        ["tuning"] = Tuning?.ToString() ?? "off",
    };

    /// <summary>The values a tuning trial varies, for progress and the record.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"trees<={Trees} leaves={Leaves} learning_rate={LearningRate} min_leaf={MinimumExamplesPerLeaf}");

    /// <summary>The algorithm's name on the command line and in the metadata.</summary>
    public static string AlgorithmName(TreeAlgorithm algorithm) => algorithm switch
    {
        TreeAlgorithm.FastTree => "fasttree",
        TreeAlgorithm.LightGbm => "lightgbm",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown algorithm."),
    };
}
