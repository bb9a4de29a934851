using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Grains.Monitoring;

/// <summary>Settings of the model monitoring job (<c>Monitoring:*</c>).</summary>
public sealed class MonitoringOptions
{
    public const string Section = "Monitoring";

    /// <summary>Whether the job runs on a schedule; on-demand runs work either way.</summary>
    public bool ScheduleEnabled { get; set; } = true;

    /// <summary>How often the scheduled run comes.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The rolling window performance and drift are measured over.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long after a prediction's horizon its negative label waits for late reports.</summary>
    public TimeSpan LabelGrace { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How far back the labelling looks at predictions (a report older than this no longer changes a label).</summary>
    public TimeSpan LabelLookback { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Fewest labelled predictions for a performance verdict.</summary>
    public int MinLabelled { get; set; } = 200;

    /// <summary>Fewest positives, and fewest negatives, among them.</summary>
    public int MinPerClass { get; set; } = 20;

    /// <summary>An AUROC below this raises an alert.</summary>
    public double MinAuroc { get; set; } = 0.80;

    /// <summary>A feature PSI above this raises an alert.</summary>
    public double MaxFeaturePsi { get; set; } = 0.25;

    /// <summary>A score PSI above this raises an alert.</summary>
    public double MaxScorePsi { get; set; } = 0.2;

    /// <summary>Where a run that raised alerts posts them (JSON); unset: alerts are logged, recorded and shown in health only.</summary>
    public Uri? AlertWebhook { get; set; }

    /// <summary>Most attempts to deliver one run's alerts to the webhook.</summary>
    public int WebhookAttempts { get; set; } = 5;

    /// <summary>The wait before the second attempt; it doubles before each further one.</summary>
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public MonitoringPolicy Policy => new(MinLabelled, MinPerClass, MinAuroc, MaxFeaturePsi, MaxScorePsi);

    /// <summary>Null when usable; otherwise what is wrong.</summary>
    public string? Problem() =>
        Period < TimeSpan.FromMinutes(1) ? "Monitoring:Period must be at least one minute."
        : Window <= TimeSpan.Zero ? "Monitoring:Window must be positive."
        : LabelGrace < TimeSpan.Zero ? "Monitoring:LabelGrace must not be negative."
        : LabelLookback < Window ? "Monitoring:LabelLookback must be at least Monitoring:Window."
        : MinLabelled < 2 || MinPerClass < 2 ? "Monitoring:MinLabelled and Monitoring:MinPerClass must be at least 2."
        : MinAuroc is <= 0 or >= 1 ? "Monitoring:MinAuroc must lie in (0, 1)."
        : MaxFeaturePsi <= 0 || MaxScorePsi <= 0 ? "Monitoring:MaxFeaturePsi and Monitoring:MaxScorePsi must be positive."
        : AlertWebhook is { IsAbsoluteUri: false } ? "Monitoring:AlertWebhook must be an absolute URL."
        : WebhookAttempts < 1 || WebhookRetryDelay < TimeSpan.Zero ? "Monitoring:WebhookAttempts must be at least 1 and WebhookRetryDelay not negative."
        : null;
}
