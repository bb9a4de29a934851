using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Monitoring;
using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>Settings of the retraining job and its promotion policy (<c>Retraining:*</c>).</summary>
public sealed class RetrainingOptions
{
    public const string Section = "Retraining";

    /// <summary>Whether a reminder retrains every <see cref="Period"/>; alerts and <c>POST /api/models/retrain</c> work either way.</summary>
    public bool ScheduleEnabled { get; set; }

    /// <summary>How often the scheduled retraining comes.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Alert kinds of a monitoring run (<see cref="MonitoringAlert.Kinds"/>, comma-separated) that start a
    /// retraining when the production model raised them; empty: alerts never do. A text, not a list: the configuration
    /// binder adds configured items to a list's defaults instead of replacing them.
    /// </summary>
    public string OnAlerts { get; set; } = "auroc";

    /// <summary>After a retraining starts, how long alerts start no other (<see cref="RetrainingCooldown"/>); 0: no cooldown.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Days of offline features the challenger is trained on, ending today (UTC).</summary>
    public int TrainingDays { get; set; } = 90;

    /// <summary>The trainer's seed (split and trees), boosting iterations, leaves per tree and smallest leaf.</summary>
    public int Seed { get; set; } = 42;

    public int Trees { get; set; } = 100;

    public int Leaves { get; set; } = 31;

    public int MinExamplesPerLeaf { get; set; } = 20;

    /// <summary>The challenger's AUROC must exceed the champion's by at least this much.</summary>
    public double MinAurocGain { get; set; } = 0.01;

    /// <summary>The challenger's Brier score may exceed the champion's by at most this much (0: calibration no worse).</summary>
    public double MaxBrierIncrease { get; set; }

    /// <summary>The promotion policy; its evidence minimums are monitoring's (<c>Monitoring:MinLabelled</c>, <c>MinPerClass</c>), one rule for both.</summary>
    public PromotionPolicy Policy(MonitoringOptions monitoring) => new(monitoring.MinLabelled, monitoring.MinPerClass, MinAurocGain, MaxBrierIncrease);

    /// <summary>
    /// The trigger a monitoring run's report gives: the alerts of <see cref="OnAlerts"/> kinds raised by
    /// <paramref name="productionVersion"/> (alerts of a model no longer serving start nothing); null when none.
    /// </summary>
    public ModelTrigger? AlertTrigger(MonitoringReport report, string? productionVersion)
    {
        var kinds = OnAlerts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var raised = report.Alerts.Where(a => a.ModelVersion == productionVersion && kinds.Contains(a.Kind))
            .Select(a => a.Kind).Distinct().Order(StringComparer.Ordinal).ToList();
        return raised.Count == 0 ? null : new ModelTrigger(ModelTrigger.Alert, $"{string.Join(", ", raised)} alert of model {productionVersion} in monitoring run {report.RunId}");
    }

    /// <summary>Null when usable; otherwise what is wrong.</summary>
    public string? Problem() =>
        Period < TimeSpan.FromMinutes(1) ? "Retraining:Period must be at least one minute."
        : Cooldown < TimeSpan.Zero ? "Retraining:Cooldown must not be negative."
        : TrainingDays < 1 ? "Retraining:TrainingDays must be at least 1."
        : Trees < 1 || Leaves < 2 || MinExamplesPerLeaf < 1 ? "Retraining:Trees must be at least 1, Leaves at least 2 and MinExamplesPerLeaf at least 1."
        : MinAurocGain is < -1 or > 1 || !double.IsFinite(MinAurocGain) ? "Retraining:MinAurocGain must lie in [-1, 1]."
        : MaxBrierIncrease is < 0 or > 1 || !double.IsFinite(MaxBrierIncrease) ? "Retraining:MaxBrierIncrease must lie in [0, 1]."
        : OnAlerts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(k => !MonitoringAlert.Kinds.Contains(k)) is { } unknown
            ? $"Retraining:OnAlerts names '{unknown}'; the alert kinds are {string.Join(", ", MonitoringAlert.Kinds)}."
        : null;
}
