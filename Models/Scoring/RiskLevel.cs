namespace ClinicalTrials.Models.Scoring;

/// <summary>The risk band a probability falls in; the cut-offs are <see cref="RiskThresholds"/>.</summary>
public enum RiskLevel
{
    Low,
    Medium,
    High,
}

/// <summary>
/// Serving cut-offs: a probability at or above <see cref="High"/> is HIGH, at or above <see cref="Medium"/> MEDIUM,
/// else LOW. The trainer reports a confusion matrix at each, so the cut-offs can be chosen from the metrics.
/// </summary>
public sealed class RiskThresholds
{
    public const string Section = "Predictions:Thresholds";

    public double Medium { get; set; } = 0.3;

    public double High { get; set; } = 0.6;

    /// <summary>What <see cref="IsValid"/> requires, as the silo and the trainer report it.</summary>
    public const string Rule = "Predictions:Thresholds: Medium and High must lie in (0, 1) with Medium < High.";

    public bool IsValid => Medium is > 0 and < 1 && High is > 0 and < 1 && Medium < High;

    public RiskLevel Classify(double probability) =>
        probability >= High ? RiskLevel.High : probability >= Medium ? RiskLevel.Medium : RiskLevel.Low;
}
