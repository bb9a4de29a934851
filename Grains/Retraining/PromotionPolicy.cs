using System.Globalization;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// When a challenger replaces the champion: both were scored on the same labelled rows, there were enough of them
/// (<paramref name="MinLabelled"/> rows, <paramref name="MinPerClass"/> of each class, monitoring's own minimums for an
/// AUROC verdict), the challenger's AUROC is at least <paramref name="MinAurocGain"/> higher, and its Brier score (the
/// calibration term that does not depend on a binning, so it is steadier than the ECE on a small window) is at most
/// <paramref name="MaxBrierIncrease"/> higher. Comparisons allow <see cref="Tolerance"/>, so that a gain of exactly the
/// threshold counts whatever the last bit of its floating-point difference. No I/O: the rules are unit-tested.
/// </summary>
public sealed record PromotionPolicy(int MinLabelled, int MinPerClass, double MinAurocGain, double MaxBrierIncrease)
{
    public const double Tolerance = 1e-9;

    /// <summary>The policy in words, recorded with each decision.</summary>
    public string Rule => string.Create(CultureInfo.InvariantCulture,
        $"promote when both models are scored on the same labelled rows (at least {MinLabelled}, with {MinPerClass} of each class), the challenger's AUROC is at least {MinAurocGain:0.###} above the champion's, and its Brier score at most {MaxBrierIncrease:0.###} above");

    /// <summary>Whether rows of these counts are enough to judge on.</summary>
    public bool Enough(ModelEvaluation evaluation) =>
        evaluation.Rows >= MinLabelled && evaluation.Positives >= MinPerClass && evaluation.Rows - evaluation.Positives >= MinPerClass;

    /// <summary>The verdict on two evaluations of the same rows, and its reason naming the rule that decided it.</summary>
    public PromotionVerdict Decide(ModelEvaluation champion, ModelEvaluation challenger)
    {
        if (!Enough(challenger))
        {
            return new(false, Text($"too few labelled rows: {challenger.Rows} ({challenger.Positives} positive); the policy needs at least {MinLabelled}, with {MinPerClass} of each class"));
        }

        if (champion.Auroc is not { } championAuroc || challenger.Auroc is not { } challengerAuroc
            || champion.Brier is not { } championBrier || challenger.Brier is not { } challengerBrier)
        {
            return new(false, "a metric could not be computed on these rows");
        }

        var gain = challengerAuroc - championAuroc;
        if (gain < MinAurocGain - Tolerance)
        {
            return new(false, Text($"AUROC rule: the challenger's AUROC {challengerAuroc:0.0000} is {gain:+0.0000;-0.0000;0.0000} against the champion's {championAuroc:0.0000}; the policy needs at least +{MinAurocGain:0.####}"));
        }

        var increase = challengerBrier - championBrier;
        if (increase > MaxBrierIncrease + Tolerance)
        {
            return new(false, Text($"calibration rule: the challenger's Brier score {challengerBrier:0.0000} is {increase:+0.0000} above the champion's {championBrier:0.0000}; the policy allows at most +{MaxBrierIncrease:0.####}"));
        }

        return new(true, Text($"AUROC {challengerAuroc:0.0000} against {championAuroc:0.0000} ({gain:+0.0000;-0.0000;0.0000}, at least +{MinAurocGain:0.####} needed) and Brier score {challengerBrier:0.0000} against {championBrier:0.0000} (no more than +{MaxBrierIncrease:0.####} allowed)"));
    }

    /// <summary>A model's metrics on labelled rows, from its scores.</summary>
    public static ModelEvaluation Evaluate(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        double? Finite(double value) => double.IsFinite(value) ? value : null;
        return new ModelEvaluation(labels.Count, labels.Count(l => l),
            Finite(BinaryMetrics.Auroc(scores, labels)), Finite(BinaryMetrics.Brier(scores, labels)),
            Finite(BinaryMetrics.ExpectedCalibrationError(BinaryMetrics.Calibration(scores, labels, bins: 10))));
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Whether to promote, and why.</summary>
public sealed record PromotionVerdict(bool Promote, string Reason);
