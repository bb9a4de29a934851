using ScottPlot;

namespace ClinicalTrials.Trainer.Reporting;

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

        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.LegendText = "chance";
        plot.Title($"ROC: {label.Description}");
        plot.XLabel("False positive rate");
        plot.YLabel("True positive rate");
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(800, 600, ImageFormat.Png);
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
}
