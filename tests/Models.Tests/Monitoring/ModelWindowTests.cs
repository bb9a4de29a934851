using System.Collections.Immutable;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Models.Tests.Monitoring;

/// <summary>
/// A model's window from served rows to report and alerts: stable data raises nothing, a shifted feature is named, labels
/// that stop following the score raise an AUROC alert, and too few labels give no verdict at all.
/// </summary>
public sealed class ModelWindowTests
{
    private static readonly string[] Names = ["heart_rate_last", "age", "creatinine_last"];
    private static readonly MonitoringPolicy Policy = new(MinLabelled: 200, MinPerClass: 20, MinAuroc: 0.80, MaxFeaturePsi: 0.25, MaxScorePsi: 0.2);

    /// <summary>Features standard normal (plus <paramref name="shift"/> on one), scores separating the classes well.</summary>
    private static IEnumerable<(double[] Features, double Score, bool Positive)> Rows(int seed, int count, int shifted = -1, double shift = 0)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        for (var i = 0; i < count; i++)
        {
            var features = Names.Select((_, f) => Normal() + (f == shifted ? shift : 0)).ToArray();
            var positive = random.NextDouble() < 0.2;
            var score = positive ? 0.45 + 0.55 * random.NextDouble() : 0.55 * random.NextDouble();
            yield return (features, score, positive);
        }
    }

    private static TrainingReference Reference()
    {
        var rows = Rows(seed: 1, count: 5000).ToList();
        return new TrainingReference(
            [.. Names.Select((name, f) => ReferenceDistribution.FromSample(name, rows.Select(r => (float)r.Features[f])))],
            ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, rows.Select(r => (float)r.Score)));
    }

    private static ModelWindowReport Window(IEnumerable<(double[] Features, double Score, bool Positive)> rows, Func<int, bool>? keepsLabel = null, bool labelsFollowScore = true)
    {
        var window = new ModelWindow("m1", Reference(), patient => patient.EndsWith('0') ? "SITE001" : "SITE002");
        var random = new Random(7);
        var i = 0;
        foreach (var (features, score, positive) in rows)
        {
            var label = keepsLabel?.Invoke(i) == false ? (OutcomeLabel?)null
                : (labelsFollowScore ? positive : random.NextDouble() < 0.2) ? OutcomeLabel.Positive : OutcomeLabel.Negative;
            window.Add(new MonitoredPrediction($"PT{i++:D8}", score, score >= 0.6 ? "HIGH" : score >= 0.3 ? "MEDIUM" : "LOW",
                ImmutableArray.Create(features), label));
        }

        return window.Report(Policy);
    }

    [Fact]
    public void Stable_data_raises_no_alert()
    {
        var report = Window(Rows(seed: 2, count: 3000));
        Assert.Equal(PerformanceReport.Evaluated, report.Performance.Verdict);
        Assert.True(report.Performance.Auroc > 0.9, $"AUROC {report.Performance.Auroc}");
        Assert.True(report.Performance.AurocLower < report.Performance.Auroc && report.Performance.Auroc < report.Performance.AurocUpper);
        Assert.All(report.Drift!.Features, f => Assert.True(f.Psi < 0.1, $"{f.Name} PSI {f.Psi}"));
        Assert.True(report.Drift.Score.Psi < 0.1);
        Assert.Empty(Policy.Alerts(report));
    }

    [Fact]
    public void A_shifted_feature_is_named_first_and_alone()
    {
        var report = Window(Rows(seed: 3, count: 3000, shifted: 1, shift: 1.0));
        Assert.Equal("age", report.Drift!.Features[0].Name);
        Assert.True(report.Drift.Features[0].KsPValue < 1e-6);
        var alert = Assert.Single(Policy.Alerts(report));
        Assert.Equal(("feature_psi", "age"), (alert.Kind, alert.Subject));
    }

    [Fact]
    public void Labels_that_stop_following_the_score_raise_an_auroc_alert()
    {
        var report = Window(Rows(seed: 4, count: 3000), labelsFollowScore: false);
        Assert.Equal(PerformanceReport.Evaluated, report.Performance.Verdict);
        Assert.True(report.Performance.AurocUpper < 0.8, $"AUROC {report.Performance.Auroc} [{report.Performance.AurocLower}, {report.Performance.AurocUpper}]");
        Assert.Equal("auroc", Assert.Single(Policy.Alerts(report)).Kind);
    }

    [Fact]
    public void Too_few_labels_give_no_verdict_and_say_so()
    {
        var report = Window(Rows(seed: 5, count: 3000), keepsLabel: i => i < 100, labelsFollowScore: false);
        Assert.Equal(PerformanceReport.InsufficientLabels, report.Performance.Verdict);
        Assert.Null(report.Performance.Auroc);
        Assert.Contains("100 labelled predictions", report.Performance.Reason);
        Assert.Empty(Policy.Alerts(report));
        Assert.Equal(3000, report.Predictions);
    }

    [Fact]
    public void Risk_levels_and_sites_are_counted()
    {
        var rows = Rows(seed: 6, count: 1000).ToList();
        var report = Window(rows);
        var high = report.RiskLevels.Single(l => l.RiskLevel == "HIGH");
        Assert.Equal(rows.Count(r => r.Score >= 0.6), high.Predictions);
        Assert.Equal((double)high.Predictions / 1000, high.Share, 12);
        Assert.Equal(rows.Count(r => r.Score >= 0.6 && r.Positive), high.Positives);
        Assert.Equal(1.0, report.RiskLevels.Sum(l => l.Share), 12);
        Assert.Equal(["SITE001", "SITE002"], report.Sites.Select(s => s.SiteId));
        Assert.Equal(1000, report.Sites.Sum(s => s.Performance.Labelled));
        var ece = report.Performance.ExpectedCalibrationError!.Value;
        Assert.Equal(report.Performance.Reliability.Sum(b => (double)b.Count / 1000 * Math.Abs(b.MeanPredicted - b.ObservedRate)), ece, 12);
    }

    [Fact]
    public void Features_of_another_width_are_left_out_of_drift_and_counted()
    {
        var window = new ModelWindow("m1", Reference(), _ => null);
        window.Add(new MonitoredPrediction("PT00000001", 0.1, "LOW", [1.0, 2.0], OutcomeLabel.Negative));
        Assert.Equal(1, window.MisshapenRows);
        Assert.Equal(0, window.Report(Policy).Drift!.Features[0].Rows);
    }
}
