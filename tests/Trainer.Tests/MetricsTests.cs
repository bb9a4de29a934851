using ClinicalTrials.Trainer.Evaluation;

namespace ClinicalTrials.Trainer.Tests;

public sealed class MetricsTests
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
    public void Metrics_without_one_class_are_nan_not_an_error()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([0.2f, 0.3f], [false, false])));
        Assert.True(double.IsNaN(BinaryMetrics.AveragePrecision([0.2f, 0.3f], [false, false])));
    }
}
