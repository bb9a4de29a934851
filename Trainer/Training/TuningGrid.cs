using System.Globalization;

namespace ClinicalTrials.Trainer.Training;

/// <summary>
/// The values <c>--tune</c> tries, every combination, each trained with early stopping on the validation patients and
/// judged by validation AUROC (the test patients stay unseen). Trees is a ceiling: early stopping picks the count.
/// </summary>
public sealed record TuningGrid(IReadOnlyList<int> Trees, IReadOnlyList<int> Leaves, IReadOnlyList<double> LearningRates, IReadOnlyList<int> MinimumExamplesPerLeaf)
{
    /// <summary>Twelve candidates around the defaults: smaller and larger trees, a slower rate, larger leaves.</summary>
    public static TuningGrid Default { get; } = new([300], [15, 31, 63], [0.05, 0.1], [20, 100]);

    /// <summary>Every combination, on top of <paramref name="basis"/> (seed, algorithm, bins, withheld features).</summary>
    public IReadOnlyList<TrainerParameters> Candidates(TrainerParameters basis) =>
        [.. from trees in Trees
            from leaves in Leaves
            from rate in LearningRates
            from minimum in MinimumExamplesPerLeaf
            select basis with { Trees = trees, Leaves = leaves, LearningRate = rate, MinimumExamplesPerLeaf = minimum, Tuning = null }];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"trees {string.Join("/", Trees)} x leaves {string.Join("/", Leaves)} x learning rate {string.Join("/", LearningRates)} x min leaf {string.Join("/", MinimumExamplesPerLeaf)}");
}
