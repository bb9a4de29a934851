using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Reporting;

namespace ClinicalTrials.Models.Tests.Reporting;

/// <summary>The numbers the report's pictures draw, on inputs worked by hand.</summary>
public sealed class PlotsTests
{
    // Positives score 0.35, 0.8 and 0.85; negatives 0.1, 0.12, 0.4 and 0.82.
    private static readonly float[] Probabilities = [0.1f, 0.12f, 0.4f, 0.82f, 0.35f, 0.8f, 0.85f];
    private static readonly bool[] Labels = [false, false, false, false, true, true, true];

    [Fact]
    public void Reliability_points_are_the_bins_holding_rows_with_their_mean_prediction_and_observed_rate()
    {
        var points = Plots.ReliabilityPoints(BinaryMetrics.Calibration(Probabilities, Labels, bins: 10));

        Assert.Equal([0.1, 0.3, 0.4, 0.8], points.Select(p => p.Lower));
        Assert.Equal([2L, 1, 1, 3], points.Select(p => p.Count));
        Assert.Equal(0.11, points[0].MeanPredicted, 6);
        Assert.Equal([0, 1, 0, 2.0 / 3], points.Select(p => p.ObservedRate));
        Assert.Equal((0.8 + 0.82 + 0.85) / 3, points[3].MeanPredicted, 6);
    }

    [Fact]
    public void Confusion_cells_place_actual_by_row_and_predicted_by_column_at_the_threshold()
    {
        // At 0.4: predicted positive 0.4 (neg), 0.82 (neg), 0.8 (pos), 0.85 (pos); 0.35 (pos) is missed.
        var cells = Plots.ConfusionCells(BinaryMetrics.Confusion(Probabilities, Labels, 0.4));

        Assert.Equal(
            [("TN", 0, 0, 2L, true), ("FP", 0, 1, 2L, false), ("FN", 1, 0, 1L, false), ("TP", 1, 1, 2L, true)],
            cells.Select(c => (c.Name, c.Row, c.Column, c.Count, c.Correct)));
        Assert.Equal([2.0 / 7, 2.0 / 7, 1.0 / 7, 2.0 / 7], cells.Select(c => c.Share));
    }

    [Fact]
    public void Confusion_cells_of_no_rows_have_no_share()
    {
        Assert.All(Plots.ConfusionCells(new ConfusionMatrix(0.5, 0, 0, 0, 0)), c => Assert.Equal((0L, 0.0), (c.Count, c.Share)));
    }
}
