using System.Globalization;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ScottPlot;

namespace ClinicalTrials.Models.Reporting;

/// <summary>
/// A monitoring run's PNG: one row per model version of the window, each of <see cref="Columns"/> panels: its AUROC over
/// the stored runs, the window's reliability diagram and the histograms of its <see cref="TopFeatures"/> most drifted
/// features against their training reference.
/// </summary>
public static class MonitoringPlots
{
    public const int TopFeatures = 3;

    public const int Columns = 2 + TopFeatures;

    public const int PanelWidth = 480, PanelHeight = 360;

    /// <summary>The figure's size: <see cref="Columns"/> panels wide, one row per model version (one row when there is none).</summary>
    public static (int Width, int Height) Size(int models) => (Columns * PanelWidth, Math.Max(models, 1) * PanelHeight);

    /// <param name="report">The run.</param>
    /// <param name="history">Per model version, its AUROC verdicts over the runs so far, this one included, oldest first.</param>
    /// <param name="histograms">Per model version, its most drifted features' histograms (none without a reference).</param>
    /// <param name="minAuroc">The alert threshold, drawn on the AUROC chart.</param>
    public static byte[] Figure(MonitoringReport report, IReadOnlyDictionary<string, IReadOnlyList<AurocPoint>> history,
        IReadOnlyDictionary<string, IReadOnlyList<DriftHistogram>> histograms, double minAuroc)
    {
        var panels = new List<Plot>();
        foreach (var model in report.Models)
        {
            panels.Add(AurocOverTime(model.ModelVersion, history.GetValueOrDefault(model.ModelVersion) ?? [], minAuroc));
            var bins = model.Performance.Reliability.Select(b => new CalibrationBin(b.Lower, b.Upper, b.Count, b.MeanPredicted, b.ObservedRate)).ToList();
            panels.Add(Plots.Reliability($"{model.ModelVersion}: reliability", new Dictionary<string, IReadOnlyList<CalibrationBin>>
            {
                [$"{model.Performance.Labelled:N0} labelled"] = bins,
            }));
            var top = histograms.GetValueOrDefault(model.ModelVersion) ?? [];
            for (var i = 0; i < TopFeatures; i++)
            {
                panels.Add(i < top.Count ? Histogram(top[i])
                    : Note(model.Drift is null ? "No training reference: no drift" : "No further feature"));
            }
        }

        if (report.Models.Count == 0)
        {
            panels.Add(Note("No model version made predictions in the window"));
        }

        // A new multiplot holds one empty plot; Reset replaces it with the first panel.
        var figure = new Multiplot();
        figure.Reset(panels[0]);
        foreach (var panel in panels.Skip(1))
        {
            figure.AddPlot(panel);
        }

        figure.Layout = new ScottPlot.MultiplotLayouts.Grid(Math.Max(report.Models.Count, 1), report.Models.Count == 0 ? 1 : Columns);
        var (width, height) = Size(report.Models.Count);
        return figure.Render(width, height).GetImageBytes(ImageFormat.Png);
    }

    /// <summary>Per model version, the runs' AUROC verdicts in time order (a run without a verdict for a version adds no point).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<AurocPoint>> AurocHistory(IEnumerable<MonitoringReport> reports) =>
        reports.SelectMany(r => r.Models.Select(m => (r.StartedAt, Model: m)))
            .Where(r => r.Model.Performance is { Verdict: PerformanceReport.Evaluated, Auroc: not null })
            .GroupBy(r => r.Model.ModelVersion, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, IReadOnlyList<AurocPoint> (g) => [.. g.OrderBy(r => r.StartedAt)
                .Select(r => new AurocPoint(r.StartedAt, r.Model.Performance.Auroc!.Value, r.Model.Performance.AurocLower, r.Model.Performance.AurocUpper))],
                StringComparer.Ordinal);

    /// <summary>AUROC per run with its 95 % interval as a vertical bar, and the alert threshold.</summary>
    private static Plot AurocOverTime(string version, IReadOnlyList<AurocPoint> points, double minAuroc)
    {
        var plot = new Plot();
        var xs = points.Select(p => p.At.UtcDateTime.ToOADate()).ToArray();
        var line = plot.Add.Scatter(xs, points.Select(p => p.Auroc).ToArray());
        line.MarkerSize = 7;
        line.LegendText = "AUROC (95 % CI)";
        foreach (var (x, point) in xs.Zip(points))
        {
            if (point is { Lower: { } lower, Upper: { } upper })
            {
                var interval = plot.Add.Line(x, lower, x, upper);
                interval.Color = line.Color;
            }
        }

        var threshold = plot.Add.HorizontalLine(minAuroc);
        threshold.LinePattern = LinePattern.Dashed;
        threshold.LegendText = string.Create(CultureInfo.InvariantCulture, $"alert below {minAuroc:0.00}");
        if (points.Count == 0)
        {
            plot.Add.Annotation("No AUROC verdict yet (too few labelled predictions)");
        }

        plot.Axes.DateTimeTicksBottom();
        plot.Axes.SetLimitsY(0, 1);
        plot.Title($"{version}: AUROC over the runs");
        plot.ShowLegend(Alignment.LowerLeft);
        return plot;
    }

    /// <summary>
    /// The share of rows per reference bin (quantile bins, so the training bars are about level) and missing, training
    /// beside served; ticks name the bins' upper edges.
    /// </summary>
    private static Plot Histogram(DriftHistogram histogram)
    {
        var plot = new Plot();
        var reference = histogram.Reference;
        var bins = reference.Counts.Count;
        var servedTotal = (double)(histogram.Counts.Sum() + histogram.Missing);
        double[] Shares(IReadOnlyList<long> counts, long missing, double total) =>
            [.. counts.Select(c => total == 0 ? 0 : c / total), total == 0 ? 0 : missing / total];
        AddBars(plot, Shares(reference.Counts, reference.Missing, reference.Total), -0.2, "training", Colors.Gray);
        AddBars(plot, Shares(histogram.Counts, histogram.Missing, servedTotal), 0.2, "served", Colors.OrangeRed);

        var every = Math.Max(1, (int)Math.Ceiling(bins / 5.0));
        // The last bin's tick would crowd the missing bar's; a lone bin holds all values.
        var ticks = Enumerable.Range(0, bins).Where(i => i % every == 0 && (i < bins - 1 || bins == 1)).ToList();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. ticks.Select(i => (double)i), bins],
            [.. ticks.Select(i => bins == 1 ? "all" : string.Create(CultureInfo.InvariantCulture, $"<={reference.Edges[i]:G3}")), "missing"]);
        var drift = histogram.Drift;
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"{drift.Name}: PSI {drift.Psi:0.000}, KS {drift.Ks:0.000}"));
        plot.YLabel("Share of rows");
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static void AddBars(Plot plot, double[] shares, double offset, string legend, Color color)
    {
        var bars = plot.Add.Bars(shares.Select((_, i) => i + offset).ToArray(), shares);
        foreach (var bar in bars.Bars)
        {
            bar.Size = 0.4;
            bar.FillColor = color;
        }

        bars.LegendText = legend;
    }

    /// <summary>A panel that only says why it is empty.</summary>
    private static Plot Note(string text)
    {
        var plot = new Plot();
        plot.Add.Annotation(text, Alignment.MiddleCenter);
        plot.HideGrid();
        plot.Layout.Frameless();
        return plot;
    }
}

/// <summary>One run's AUROC verdict for a model version, with its DeLong 95 % interval.</summary>
public sealed record AurocPoint(DateTimeOffset At, double Auroc, double? Lower, double? Upper);
