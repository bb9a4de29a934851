using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Retraining;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The promotion policy's rules, each both ways: enough labels, the AUROC gain (a gain of exactly the threshold counts),
/// calibration (a Brier score no worse, a tie counting as no worse), and the metrics it judges on against hand-computed values.
/// </summary>
public sealed class PromotionPolicyTests
{
    private static readonly PromotionPolicy Policy = new(MinLabelled: 200, MinPerClass: 20, MinAurocGain: 0.01, MaxBrierIncrease: 0);

    private static ModelEvaluation On(double auroc, double brier, long rows = 500, long positives = 50) => new(rows, positives, auroc, brier, 0.05);

    [Fact]
    public void A_challenger_better_by_the_gain_and_no_worse_calibrated_is_promoted()
    {
        var verdict = Policy.Decide(On(0.80, 0.100), On(0.85, 0.090));

        Assert.True(verdict.Promote, verdict.Reason);
        Assert.Contains("0.8500 against 0.8000", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gain_below_the_threshold_keeps_the_challenger_in_staging_naming_the_AUROC_rule()
    {
        var verdict = Policy.Decide(On(0.80, 0.100), On(0.805, 0.050));

        Assert.False(verdict.Promote);
        Assert.StartsWith("AUROC rule", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("+0.0050", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_worse_challenger_is_refused_with_its_negative_gain()
    {
        var verdict = Policy.Decide(On(0.85, 0.100), On(0.80, 0.100));

        Assert.False(verdict.Promote);
        Assert.Contains("-0.0500", verdict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.81, 0.82)] // 0.82 - 0.81 is 0.009999999999999898 in doubles
    [InlineData(0.68, 0.69)] // likewise
    [InlineData(0.80, 0.81)]
    public void A_gain_of_exactly_the_threshold_is_enough(double champion, double challenger)
    {
        Assert.True(Policy.Decide(On(champion, 0.1), On(challenger, 0.1)).Promote);
    }

    [Fact]
    public void Equal_AUROC_is_not_a_gain()
    {
        Assert.False(Policy.Decide(On(0.8, 0.1), On(0.8, 0.1)).Promote);
    }

    [Fact]
    public void A_worse_calibrated_challenger_is_refused_naming_the_calibration_rule_and_a_tie_is_no_worse()
    {
        var worse = Policy.Decide(On(0.80, 0.100), On(0.90, 0.101));
        var tie = Policy.Decide(On(0.80, 0.100), On(0.90, 0.100));
        var tolerated = (Policy with { MaxBrierIncrease = 0.005 }).Decide(On(0.80, 0.100), On(0.90, 0.104));

        Assert.False(worse.Promote);
        Assert.StartsWith("calibration rule", worse.Reason, StringComparison.Ordinal);
        Assert.True(tie.Promote, tie.Reason);
        Assert.True(tolerated.Promote, tolerated.Reason);
    }

    [Theory]
    [InlineData(199, 50)] // too few rows
    [InlineData(500, 19)] // too few positives
    [InlineData(500, 481)] // too few negatives
    public void Too_few_labels_decide_nothing_however_large_the_gain(long rows, long positives)
    {
        var verdict = Policy.Decide(On(0.60, 0.2, rows, positives), On(0.95, 0.05, rows, positives));

        Assert.False(verdict.Promote);
        Assert.StartsWith("too few labelled rows", verdict.Reason, StringComparison.Ordinal);
        Assert.False(Policy.Enough(new ModelEvaluation(rows, positives, null, null, null)));
    }

    [Fact]
    public void Exactly_the_minimum_labels_are_enough()
    {
        Assert.True(Policy.Enough(new ModelEvaluation(200, 20, null, null, null)));
        Assert.True(Policy.Enough(new ModelEvaluation(200, 180, null, null, null)));
    }

    [Fact]
    public void A_metric_that_cannot_be_computed_decides_nothing()
    {
        var verdict = Policy.Decide(On(0.8, 0.1) with { Auroc = null }, On(0.9, 0.1));

        Assert.False(verdict.Promote);
        Assert.Contains("could not be computed", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluation_counts_rows_and_computes_AUROC_and_Brier_by_hand()
    {
        // Positives 0.9 and 0.4; negatives 0.6 and 0.1: of the four pairs three are ordered right, AUROC 0.75.
        // Brier: (0.1^2 + 0.6^2 + 0.6^2 + 0.1^2) / 4 = 0.185.
        var evaluation = PromotionPolicy.Evaluate([0.9f, 0.4f, 0.6f, 0.1f], [true, true, false, false]);

        Assert.Equal(4, evaluation.Rows);
        Assert.Equal(2, evaluation.Positives);
        Assert.Equal(0.75, evaluation.Auroc!.Value, 12);
        Assert.Equal(0.185, evaluation.Brier!.Value, 6);
        Assert.NotNull(evaluation.ExpectedCalibrationError);
    }

    [Fact]
    public void One_class_only_has_no_AUROC()
    {
        Assert.Null(PromotionPolicy.Evaluate([0.2f, 0.3f], [false, false]).Auroc);
    }

    [Fact]
    public void The_rule_text_names_every_threshold()
    {
        Assert.Contains("at least 200, with 20 of each class", Policy.Rule, StringComparison.Ordinal);
        Assert.Contains("at least 0.01 above", Policy.Rule, StringComparison.Ordinal);
        Assert.Contains("at most 0 above", Policy.Rule, StringComparison.Ordinal);
    }
}
