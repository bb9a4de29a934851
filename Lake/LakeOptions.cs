namespace ClinicalTrials.Lake;

/// <summary>The pipeline's settings (<c>Pipeline</c> section).</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>Whether the cluster runs the jobs on a schedule (Orleans reminders). On-demand runs work either way.</summary>
    public bool ScheduleEnabled { get; set; } = true;

    /// <summary>How often each scheduled job runs (Orleans reminders allow one minute at least).</summary>
    public TimeSpan SchedulePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Most silver rows a job holds at once: bronze to silver flushes when it has this many pending; offline features
    /// split patients into hash buckets so that one bucket's history stays under it.
    /// </summary>
    public int MaxRowsInMemory { get; set; } = 1_500_000;

    /// <summary>A bronze hour partition counts as sealed (no more appends) this long after its hour ends.</summary>
    public TimeSpan BronzeSealDelay { get; set; } = TimeSpan.FromMinutes(10);

    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Null when usable; otherwise what is wrong.</summary>
    public string? Problem() =>
        MaxRowsInMemory < 1000 ? "Pipeline:MaxRowsInMemory must be at least 1000."
        : SchedulePeriod < TimeSpan.FromMinutes(1) ? "Pipeline:SchedulePeriod must be at least one minute."
        : Retention.BronzeDays <= 0 || Retention.SilverDays <= 0 || Retention.FeatureDays <= 0 || Retention.AuditDays <= 0
            ? "Pipeline:Retention:* days must be positive."
        : null;
}

/// <summary>How long each layer keeps a date partition (<c>Pipeline:Retention</c>), in days.</summary>
public sealed class RetentionOptions
{
    /// <summary><c>raw/…</c>, local journal files and their bucket copies.</summary>
    public int BronzeDays { get; set; } = 90;

    /// <summary><c>processed/…</c>.</summary>
    public int SilverDays { get; set; } = 730;

    /// <summary><c>features/offline/…</c>.</summary>
    public int FeatureDays { get; set; } = 730;

    /// <summary>Audit material: <c>quarantine/…</c> (every rejected message) and job run records. Seven years.</summary>
    public int AuditDays { get; set; } = 2557;
}
