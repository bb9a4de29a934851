using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Reporting;
using ClinicalTrials.Models.Tracking;
using SkiaSharp;

namespace ClinicalTrials.Models.Tests.Reporting;

/// <summary>
/// A monitoring run's Markdown report and PNG figure, from a window of served rows whose one feature drifted and whose
/// labels give an AUROC verdict: the report holds the figures of the run, the figure is drawn at its size.
/// </summary>
public sealed class MonitoringDocumentsTests
{
    private static readonly MonitoringPolicy Policy = new(MinLabelled: 200, MinPerClass: 20, MinAuroc: 0.95, MaxFeaturePsi: 0.25, MaxScorePsi: 0.2);
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Two features, <c>age</c> shifted by two standard deviations when <paramref name="shifted"/>; scores that separate the classes fairly.</summary>
    private static ModelWindow Window(string version, bool shifted)
    {
        var random = new Random(3);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var reference = new TrainingReference(
            [ReferenceDistribution.FromSample("age", Enumerable.Range(0, 2000).Select(_ => (float)Normal())),
             ReferenceDistribution.FromSample("gluc_last", Enumerable.Range(0, 2000).Select(_ => (float)Normal()))],
            ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, Enumerable.Range(0, 2000).Select(_ => (float)random.NextDouble())));
        var window = new ModelWindow(version, reference, _ => "SITE001");
        for (var i = 0; i < 600; i++)
        {
            var positive = random.NextDouble() < 0.3;
            var score = positive ? 0.3 + 0.7 * random.NextDouble() : 0.7 * random.NextDouble();
            window.Add(new MonitoredPrediction($"PT{i:D8}", score, score >= 0.6 ? "HIGH" : "LOW",
                ImmutableArray.Create(Normal() + (shifted ? 2 : 0), Normal()), positive ? OutcomeLabel.Positive : OutcomeLabel.Negative));
        }

        return window;
    }

    private static (MonitoringReport Report, Dictionary<string, IReadOnlyList<DriftHistogram>> Histograms) Run(params (string Version, bool Shifted)[] models)
    {
        var windows = models.Select(m => Window(m.Version, m.Shifted)).ToList();
        var reports = windows.Select(w => w.Report(Policy)).ToList();
        var report = new MonitoringReport("20261202-120000-abcdef12", Now, Now.AddDays(-7), Now, new LabellingSummary(900, 600, 3, 300, 120),
            reports, [.. reports.SelectMany(Policy.Alerts)]);
        return (report, reports.Zip(windows).ToDictionary(p => p.First.ModelVersion, p => p.Second.TopFeatureHistograms(MonitoringPlots.TopFeatures)));
    }

    [Fact]
    public void The_markdown_report_holds_the_runs_auroc_with_its_interval_the_alerts_the_drift_and_the_reliability_table()
    {
        var (report, _) = Run(("m1", true));
        var performance = report.Models[0].Performance;
        Assert.Equal(PerformanceReport.Evaluated, performance.Verdict);

        var markdown = MonitoringMarkdown.Write(report);

        string F(double? value, string format = "0.0000") => value!.Value.ToString(format, CultureInfo.InvariantCulture);
        Assert.Contains($"| all sites | 600 | {performance.Positives} | {F(performance.Auroc)} | {F(performance.AurocLower)}-{F(performance.AurocUpper)} |", markdown, StringComparison.Ordinal);
        // AUROC below the policy's 0.95 and age's PSI above 0.25 (and the score's, against a uniform reference): each alert with its message.
        Assert.Contains(report.Alerts, a => a.Kind == MonitoringAlert.Auroc);
        Assert.Contains(report.Alerts, a => a is { Kind: MonitoringAlert.FeaturePsi, Subject: "age" });
        Assert.All(report.Alerts, a => Assert.Contains($"- **{a.Kind}** of model `m1`: {a.Message}", markdown, StringComparison.Ordinal));
        var age = report.Models[0].Drift!.Features[0];
        Assert.Equal("age", age.Name);
        Assert.Contains($"| `age` | 600 | {F(age.Psi, "0.000")} | {F(age.Ks, "0.000")} |", markdown, StringComparison.Ordinal);
        Assert.All(performance.Reliability, b =>
            Assert.Contains($"| {F(b.Lower, "0.0")}-{F(b.Upper, "0.0")} | {b.Count} | {F(b.MeanPredicted, "0.000")} | {F(b.ObservedRate, "0.000")} |", markdown, StringComparison.Ordinal));
        Assert.Contains($"({MonitoringDocuments.Png})", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_verdict_the_report_says_why_and_gives_no_auroc()
    {
        var window = new ModelWindow("m1", null, _ => null);
        window.Add(new MonitoredPrediction("PT00000001", 0.4, "LOW", [], OutcomeLabel.Positive));
        var report = new MonitoringReport("r", Now, Now.AddDays(-7), Now, new LabellingSummary(1, 1, 0, 0, 1), [window.Report(Policy)], []);

        var markdown = MonitoringMarkdown.Write(report);

        Assert.Contains("| all sites | 1 | 1 | n/a | n/a |", markdown, StringComparison.Ordinal);
        Assert.Contains($"No verdict: {report.Models[0].Performance.Reason}", markdown, StringComparison.Ordinal);
        Assert.Contains("no training reference", markdown, StringComparison.Ordinal);
        Assert.Contains("## Alerts\n\nNone.", markdown.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_auroc_history_keeps_each_versions_verdicts_in_time_order()
    {
        var (evaluated, _) = Run(("m1", false));
        var noVerdict = new MonitoringReport("r0", Now.AddHours(-12), Now.AddDays(-7), Now, new LabellingSummary(0, 0, 0, 0, 0),
            [new ModelWindow("m1", null, _ => null).Report(Policy)], []);
        var earlier = evaluated with { RunId = "r1", StartedAt = Now.AddHours(-6) };

        var history = MonitoringPlots.AurocHistory([evaluated, noVerdict, earlier]);

        var points = Assert.Single(history).Value;
        Assert.Equal([Now.AddHours(-6), Now], points.Select(p => p.At));
        Assert.All(points, p => Assert.Equal((evaluated.Models[0].Performance.Auroc!.Value, evaluated.Models[0].Performance.AurocLower), (p.Auroc, p.Lower)));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(0)]
    public void The_figure_is_a_png_of_one_row_of_panels_per_model_version_with_something_drawn(int models)
    {
        var (report, histograms) = Run([.. new[] { ("m1", true), ("m2", false) }.Take(models)]);

        var png = MonitoringPlots.Figure(report, MonitoringPlots.AurocHistory([report]), histograms, minAuroc: 0.8);

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var (width, height) = MonitoringPlots.Size(models);
        Assert.Equal((width, height), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        // Axes, text, bars and markers in several colours, not a blank canvas.
        Assert.True(bitmap.Pixels.Distinct().Count() > 20, "the figure is (nearly) blank");
    }
}
