using System.Globalization;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ScottPlot;

namespace ClinicalTrials.Models.Reporting;

/// <summary>The run's PNG charts (ScottPlot, rendered with SkiaSharp; no display needed).</summary>
public static class Plots
{
    /// <summary>One ROC curve per split with its AUROC in the legend, and the chance diagonal.</summary>
    public static byte[] Roc(Models.Metadata.LabelDefinition label, IReadOnlyDictionary<string, (IReadOnlyList<(double Fpr, double Tpr)> Curve, double Auroc)> curves)
    {
        var plot = new Plot();
        foreach (var (split, (curve, auroc)) in curves)
        {
            var line = plot.Add.Scatter(curve.Select(p => p.Fpr).ToArray(), curve.Select(p => p.Tpr).ToArray());
            line.MarkerSize = 0;
            line.LegendText = $"{split} (AUROC {auroc:0.000})";
        }

        Diagonal(plot, "chance");
        return UnitSquarePng(plot, $"ROC: {label.Description}", "False positive rate", "True positive rate", Alignment.LowerRight);
    }

    /// <summary>The most important features (gain), largest at the top.</summary>
    public static byte[] FeatureImportance(IReadOnlyList<(string Name, double Importance)> top)
    {
        var plot = new Plot();
        var ordered = top.Reverse().ToArray();
        var bars = plot.Add.Bars(ordered.Select(f => f.Importance).ToArray());
        bars.Horizontal = true;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, ordered.Length).Select(i => (double)i).ToArray(), ordered.Select(f => f.Name).ToArray());
        plot.Title($"Top {ordered.Length} features by gain");
        plot.XLabel("Relative importance");
        plot.Axes.Margins(left: 0);
        return plot.GetImageBytes(900, 40 + 24 * Math.Max(ordered.Length, 10), ImageFormat.Png);
    }

    /// <summary>The reliability diagram of each split (<see cref="Reliability"/>).</summary>
    public static byte[] Calibration(LabelDefinition label, IReadOnlyDictionary<string, IReadOnlyList<CalibrationBin>> bins) =>
        Reliability($"Calibration: {label.Description}", bins).GetImageBytes(UnitSquareWidth, UnitSquareHeight, ImageFormat.Png);

    /// <summary>
    /// The reliability diagram: per series (a split, a monitoring window), each non-empty probability bin's mean
    /// prediction against the rate observed in it, beside the diagonal of perfect calibration; the legend gives the ECE.
    /// The one drawing of it, for the trainer's report and the monitoring run's.
    /// </summary>
    public static Plot Reliability(string title, IReadOnlyDictionary<string, IReadOnlyList<CalibrationBin>> bins)
    {
        var plot = new Plot();
        foreach (var (series, table) in bins)
        {
            var points = ReliabilityPoints(table);
            var line = plot.Add.Scatter(points.Select(p => p.MeanPredicted).ToArray(), points.Select(p => p.ObservedRate).ToArray());
            line.MarkerSize = 8;
            line.LegendText = $"{series} (ECE {BinaryMetrics.ExpectedCalibrationError(table):0.000})";
        }

        Diagonal(plot, "perfectly calibrated");
        UnitSquare(plot, title, "Mean predicted probability (10 bins)", "Observed rate", Alignment.UpperLeft);
        return plot;
    }

    /// <summary>The points of a reliability diagram: the bins that hold rows (an empty bin has no rate to show).</summary>
    public static IReadOnlyList<CalibrationBin> ReliabilityPoints(IReadOnlyList<CalibrationBin> bins) => [.. bins.Where(b => b.Count > 0)];

    /// <summary>One precision-recall curve per split with its AUPRC, and each split's prevalence (a random ranking's precision).</summary>
    public static byte[] PrecisionRecall(LabelDefinition label,
        IReadOnlyDictionary<string, (IReadOnlyList<(double Recall, double Precision)> Curve, double Auprc, double Prevalence)> curves)
    {
        var plot = new Plot();
        foreach (var (split, (curve, auprc, prevalence)) in curves)
        {
            var line = plot.Add.Scatter(curve.Select(p => p.Recall).ToArray(), curve.Select(p => p.Precision).ToArray());
            line.MarkerSize = 0;
            line.LegendText = $"{split} (AUPRC {auprc:0.000})";
            var chance = plot.Add.HorizontalLine(prevalence);
            chance.Color = line.Color;
            chance.LinePattern = LinePattern.Dashed;
            chance.LegendText = $"{split} prevalence {prevalence:0.000}";
        }

        return UnitSquarePng(plot, $"Precision-recall: {label.Description}", "Recall (sensitivity)", "Precision (positive predictive value)",
            Alignment.UpperRight);
    }

    /// <summary>
    /// The test split's confusion matrices at the serving thresholds, side by side: rows the actual class, columns the
    /// predicted one, each cell its count and share of the rows.
    /// </summary>
    public static byte[] Confusion(string split, IReadOnlyList<(string Name, ConfusionMatrix Matrix)> matrices)
    {
        var plot = new Plot();
        for (var m = 0; m < matrices.Count; m++)
        {
            var (name, matrix) = matrices[m];
            var left = m * 3.0;
            foreach (var cell in ConfusionCells(matrix))
            {
                var x = left + cell.Column;
                var y = 1 - cell.Row;
                var box = plot.Add.Rectangle(x, x + 1, y, y + 1);
                box.FillStyle.Color = (cell.Correct ? Colors.SeaGreen : Colors.IndianRed).WithAlpha(0.2 + 0.6 * cell.Share);
                box.LineStyle.Color = Colors.Gray;
                var text = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{cell.Name}\n{cell.Count:N0}\n{cell.Share:P1}"), x + 0.5, y + 0.5);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 16;
            }

            var title = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{name}: p >= {matrix.Threshold:0.00}"), left + 1, 2.15);
            title.LabelAlignment = Alignment.LowerCenter;
            title.LabelFontSize = 16;
            title.LabelBold = true;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, matrices.Count).SelectMany(m => new[] { m * 3.0 + 0.5, m * 3.0 + 1.5 })],
            [.. Enumerable.Range(0, matrices.Count).SelectMany(_ => new[] { "predicted no", "predicted yes" })]);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([0.5, 1.5], ["actual yes", "actual no"]);
        plot.Title($"Confusion matrices on {split} at the serving thresholds");
        plot.HideGrid();
        plot.Axes.SetLimits(-0.1, matrices.Count * 3.0 - 0.9, -0.1, 2.5);
        return plot.GetImageBytes(420 * Math.Max(matrices.Count, 1), 480, ImageFormat.Png);
    }

    /// <summary>
    /// The four cells of a confusion matrix as drawn: row 0 actual negative, row 1 actual positive; column 0 predicted
    /// negative, column 1 predicted positive; with each cell's share of all rows (0 when there are none).
    /// </summary>
    public static IReadOnlyList<ConfusionCell> ConfusionCells(ConfusionMatrix matrix)
    {
        var total = (double)(matrix.TruePositives + matrix.FalsePositives + matrix.TrueNegatives + matrix.FalseNegatives);
        double Share(long count) => total == 0 ? 0 : count / total;
        return
        [
            new("TN", 0, 0, matrix.TrueNegatives, Share(matrix.TrueNegatives), Correct: true),
            new("FP", 0, 1, matrix.FalsePositives, Share(matrix.FalsePositives), Correct: false),
            new("FN", 1, 0, matrix.FalseNegatives, Share(matrix.FalseNegatives), Correct: false),
            new("TP", 1, 1, matrix.TruePositives, Share(matrix.TruePositives), Correct: true),
        ];
    }

    /// <summary>The dashed reference diagonal of a rate-against-rate chart.</summary>
    private static void Diagonal(Plot plot, string legend)
    {
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LegendText = legend;
    }

    private const int UnitSquareWidth = 800, UnitSquareHeight = 600;

    /// <summary>Finishes a chart of two rates (both axes 0 to 1) and renders it as an 800 x 600 PNG.</summary>
    private static byte[] UnitSquarePng(Plot plot, string title, string xLabel, string yLabel, Alignment legend)
    {
        UnitSquare(plot, title, xLabel, yLabel, legend);
        return plot.GetImageBytes(UnitSquareWidth, UnitSquareHeight, ImageFormat.Png);
    }

    /// <summary>Titles a chart of two rates, sets both axes to 0 to 1 and places its legend.</summary>
    private static void UnitSquare(Plot plot, string title, string xLabel, string yLabel, Alignment legend)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.ShowLegend(legend);
    }
}

/// <summary>A drawn cell of a confusion matrix (<see cref="Plots.ConfusionCells"/>).</summary>
public sealed record ConfusionCell(string Name, int Row, int Column, long Count, double Share, bool Correct);
