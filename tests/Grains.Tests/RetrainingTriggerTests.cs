using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Retraining;
using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Grains.Tests;

/// <summary>Which monitoring alerts start a retraining (<see cref="RetrainingOptions.AlertTrigger"/>), and the settings' checks.</summary>
public sealed class RetrainingTriggerTests
{
    private static MonitoringReport Report(params MonitoringAlert[] alerts) =>
        new("run-1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, new LabellingSummary(0, 0, 0, 0, 0), [], alerts);

    private static MonitoringAlert Alert(string kind, string version) => new(kind, version, null, 0.5, 0.8, "…");

    [Fact]
    public void An_AUROC_alert_of_the_production_model_starts_a_retraining_by_default()
    {
        var trigger = new RetrainingOptions().AlertTrigger(Report(Alert(MonitoringAlert.Auroc, "m1"), Alert(MonitoringAlert.ScorePsi, "m1")), "m1");

        Assert.NotNull(trigger);
        Assert.Equal(ModelTrigger.Alert, trigger.Kind);
        Assert.Equal("auroc alert of model m1 in monitoring run run-1", trigger.By);
    }

    [Fact]
    public void Alerts_of_kinds_not_configured_or_of_a_model_no_longer_in_production_start_nothing()
    {
        var options = new RetrainingOptions();

        Assert.Null(options.AlertTrigger(Report(Alert(MonitoringAlert.FeaturePsi, "m1"), Alert(MonitoringAlert.ScorePsi, "m1")), "m1"));
        Assert.Null(options.AlertTrigger(Report(Alert(MonitoringAlert.Auroc, "old")), "m1"));
        Assert.Null(options.AlertTrigger(Report(Alert(MonitoringAlert.Auroc, "m1")), null));
        Assert.Null(new RetrainingOptions { OnAlerts = "" }.AlertTrigger(Report(Alert(MonitoringAlert.Auroc, "m1")), "m1"));
    }

    [Fact]
    public void Configured_drift_kinds_are_named_in_the_trigger()
    {
        var trigger = new RetrainingOptions { OnAlerts = "score_psi, feature_psi" }
            .AlertTrigger(Report(Alert(MonitoringAlert.FeaturePsi, "m1"), Alert(MonitoringAlert.FeaturePsi, "m1"), Alert(MonitoringAlert.ScorePsi, "m1")), "m1");

        Assert.Equal("feature_psi, score_psi alert of model m1 in monitoring run run-1", trigger?.By);
    }

    [Theory]
    [InlineData("OnAlerts", "auroc,drift")]
    [InlineData("MinAurocGain", "2")]
    [InlineData("MaxBrierIncrease", "-0.1")]
    [InlineData("TrainingDays", "0")]
    [InlineData("Period", "00:00:30")]
    [InlineData("Cooldown", "-00:00:01")]
    public void A_setting_out_of_range_is_named(string setting, string value)
    {
        var options = new RetrainingOptions();
        var property = typeof(RetrainingOptions).GetProperty(setting)!;
        property.SetValue(options, property.PropertyType == typeof(string) ? value
            : property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Null(new RetrainingOptions().Problem());
        Assert.Contains($"Retraining:{setting}", options.Problem(), StringComparison.Ordinal);
    }
}
