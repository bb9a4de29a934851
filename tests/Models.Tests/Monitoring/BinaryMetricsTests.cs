using ClinicalTrials.Models.Monitoring;
using FsCheck;
using FsCheck.Fluent;

namespace ClinicalTrials.Models.Tests.Monitoring;

public sealed class BinaryMetricsTests
{
    // Worked by hand: positives score 0.35 and 0.8, negatives 0.1 and 0.4.
    private static readonly float[] Probabilities = [0.1f, 0.4f, 0.35f, 0.8f];
    private static readonly bool[] Labels = [false, false, true, true];

    [Fact]
    public void Auroc_counts_the_pairs_a_positive_wins()
    {
        // (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4): 3 of 4 pairs.
        Assert.Equal(0.75, BinaryMetrics.Auroc(Probabilities, Labels), 12);
    }

    [Fact]
    public void Auroc_counts_a_tie_as_half()
    {
        Assert.Equal(0.5, BinaryMetrics.Auroc([0.5f, 0.5f], [true, false]), 12);
        Assert.Equal(0.75, BinaryMetrics.Auroc([0.5f, 0.5f, 0.2f], [true, false, false]), 12);
    }

    [Fact]
    public void Average_precision_averages_precision_at_each_positive()
    {
        // Descending: 0.8 (pos, precision 1/1), 0.4 (neg), 0.35 (pos, precision 2/3): (1 + 2/3) / 2.
        Assert.Equal((1 + 2.0 / 3) / 2, BinaryMetrics.AveragePrecision(Probabilities, Labels), 12);
    }

    [Fact]
    public void Brier_is_the_mean_squared_error_of_the_probabilities()
    {
        // (0.1^2 + 0.4^2 + 0.65^2 + 0.2^2) / 4 = 0.6325 / 4, up to the float inputs' rounding.
        Assert.Equal(0.158125, BinaryMetrics.Brier(Probabilities, Labels), 6);
    }

    [Fact]
    public void Confusion_matrix_calls_a_probability_at_the_threshold_positive()
    {
        var matrix = BinaryMetrics.Confusion(Probabilities, Labels, 0.4);
        Assert.Equal((1L, 1L, 1L, 1L), (matrix.TruePositives, matrix.FalsePositives, matrix.TrueNegatives, matrix.FalseNegatives));
        Assert.Equal(0.5, matrix.Precision);
        Assert.Equal(0.5, matrix.Recall);
    }

    [Fact]
    public void Calibration_bins_hold_mean_prediction_and_observed_rate()
    {
        var bins = BinaryMetrics.Calibration(Probabilities, Labels, bins: 10);
        Assert.Equal(10, bins.Count);
        var third = bins[3]; // [0.3, 0.4): only 0.35, a positive
        Assert.Equal(1, third.Count);
        Assert.Equal(1.0, third.ObservedRate);
        Assert.Equal(1, bins[4].Count); // 0.4 lands in [0.4, 0.5)
        Assert.Equal(0.0, bins[4].ObservedRate);
        Assert.True(double.IsNaN(bins[0].MeanPredicted));
    }

    [Fact]
    public void Precision_recall_curve_has_a_point_per_distinct_score_and_its_steps_sum_to_average_precision()
    {
        // Descending: 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg).
        var curve = BinaryMetrics.PrecisionRecallCurve(Probabilities, Labels);
        Assert.Equal([(0.5, 1.0), (0.5, 0.5), (1.0, 2.0 / 3), (1.0, 0.5)], curve);
        var area = curve.Select((p, i) => (p.Recall - (i == 0 ? 0 : curve[i - 1].Recall)) * p.Precision).Sum();
        Assert.Equal(BinaryMetrics.AveragePrecision(Probabilities, Labels), area, 12);
    }

    [Fact]
    public void Precision_recall_curve_admits_tied_scores_together()
    {
        Assert.Equal([(0.5, 0.5), (1.0, 2.0 / 3)], BinaryMetrics.PrecisionRecallCurve([0.5f, 0.5f, 0.2f], [true, false, true]));
        Assert.Empty(BinaryMetrics.PrecisionRecallCurve([0.2f, 0.3f], [false, false]));
    }

    [Fact]
    public void Metrics_without_one_class_are_nan_not_an_error()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([0.2f, 0.3f], [false, false])));
        Assert.True(double.IsNaN(BinaryMetrics.AveragePrecision([0.2f, 0.3f], [false, false])));
    }

    [Fact]
    public void Delong_interval_is_the_placement_variance_around_the_auroc()
    {
        // Placements: positive 0.35 beats 1 of 2 negatives (0.5), 0.8 beats both (1); negative 0.1 is beaten by both
        // positives (1), 0.4 by one (0.5). AUROC = mean(0.5, 1) = 0.75. Sample variances: S10 = var(0.5, 1) = 0.125,
        // S01 = var(1, 0.5) = 0.125; Var = 0.125/2 + 0.125/2 = 0.125. 95 %: 0.75 -+ 1.959964 * sqrt(0.125) = 0.057048,
        // and 1.44, clipped to 1.
        var interval = BinaryMetrics.AurocWithInterval(Probabilities, Labels);
        Assert.Equal(0.75, interval.Estimate, 12);
        Assert.Equal(0.057048, interval.Lower, 6);
        Assert.Equal(1.0, interval.Upper);
    }

    [Fact]
    public void Delong_interval_of_three_against_three()
    {
        // Positives 0.9, 0.8, 0.4; negatives 0.7, 0.3, 0.2. Positive placements 1, 1, 2/3; negative placements 2/3, 1, 1.
        // AUROC = 8/9; S10 = S01 = ((1/9)^2 + (1/9)^2 + (2/9)^2) / 2 = 1/27; Var = 1/81 + 1/81 = 2/81.
        // Lower = 8/9 - 1.959964 * sqrt(2/81) = 0.580910.
        var interval = BinaryMetrics.AurocWithInterval([0.9f, 0.8f, 0.4f, 0.7f, 0.3f, 0.2f], [true, true, true, false, false, false]);
        Assert.Equal(8.0 / 9, interval.Estimate, 12);
        Assert.Equal(0.580910, interval.Lower, 6);
    }

    [Fact]
    public void Delong_interval_needs_two_of_each_class()
    {
        var interval = BinaryMetrics.AurocWithInterval([0.9f, 0.1f, 0.2f], [true, false, false]);
        Assert.Equal(1.0, interval.Estimate);
        Assert.True(double.IsNaN(interval.Lower) && double.IsNaN(interval.Upper));
    }

    [Fact]
    public void Expected_calibration_error_weighs_each_bins_gap_by_its_rows()
    {
        // One row per bin: |0.1 - 0| + |0.35 - 1| + |0.4 - 0| + |0.8 - 1| = 1.35, over 4 rows.
        Assert.Equal(0.3375, BinaryMetrics.ExpectedCalibrationError(BinaryMetrics.Calibration(Probabilities, Labels, bins: 10)), 6);
        Assert.True(double.IsNaN(BinaryMetrics.ExpectedCalibrationError(BinaryMetrics.Calibration([], [], bins: 10))));
    }

    [Fact]
    public void Auroc_of_a_perfect_ranking_is_one()
    {
        Check.One(Config, Prop.ForAll(Samples().ToArbitrary(), sample =>
        {
            // Every positive moved above every negative.
            var ranked = sample.Scores.Select((s, i) => sample.Labels[i] ? 2 + s : s).ToArray();
            return BinaryMetrics.Auroc(ranked, sample.Labels) == 1.0;
        }));
    }

    [Fact]
    public void Interval_contains_the_estimate_and_narrows_as_the_sample_grows()
    {
        Check.One(Config, Prop.ForAll(Samples().ToArbitrary(), sample =>
        {
            var once = BinaryMetrics.AurocWithInterval(sample.Scores, sample.Labels);
            var twice = BinaryMetrics.AurocWithInterval([.. sample.Scores, .. sample.Scores], [.. sample.Labels, .. sample.Labels]);
            return once.Lower <= once.Estimate && once.Estimate <= once.Upper
                && Math.Abs(once.Estimate - twice.Estimate) < 1e-12
                && twice.Upper - twice.Lower <= once.Upper - once.Lower + 1e-12;
        }));
    }

    [Fact]
    public void Interval_narrows_strictly_with_more_of_the_same_data()
    {
        float[] scores = [0.9f, 0.8f, 0.4f, 0.7f, 0.3f, 0.2f, 0.6f, 0.5f];
        bool[] labels = [true, true, true, false, false, false, false, true];
        var once = BinaryMetrics.AurocWithInterval(scores, labels);
        var fourTimes = BinaryMetrics.AurocWithInterval([.. scores, .. scores, .. scores, .. scores], [.. labels, .. labels, .. labels, .. labels]);
        Assert.True(fourTimes.Lower > once.Lower, $"{fourTimes.Lower} should exceed {once.Lower}.");
    }

    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(200).WithReplay(20261202, 15);

    public sealed record Sample(float[] Scores, bool[] Labels);

    /// <summary>Scores in [0, 1] on a coarse grid (so ties happen), at least two of each class.</summary>
    private static Gen<Sample> Samples() =>
        from size in Gen.Choose(4, 60)
        from scores in Gen.Choose(0, 20).Select(v => v / 20f).ArrayOf(size)
        from labels in Gen.Elements(true, false).ArrayOf(size)
        let fixedLabels = labels.Select((l, i) => i < 2 || (i >= 4 && l)).ToArray()
        select new Sample(scores, fixedLabels);
}
