namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// The model monitoring job, keyed "default": labels logged predictions with the adverse events reported since, then
/// measures each serving model version's performance and drift and records the run (docs/monitoring.md). One
/// activation in the cluster, one run at a time; an Orleans reminder runs it every <c>Monitoring:Period</c>.
/// </summary>
[Alias("model-monitor")]
public interface IModelMonitorGrain : IGrainWithStringKey
{
    /// <summary>(Re)registers the reminder with the configured period; the silo calls it at start.</summary>
    [Alias("start")]
    Task StartAsync();

    /// <summary>Runs monitoring to its end and returns the run's id (its report is in the tracking database).</summary>
    [Alias("run")]
    [ResponseTimeout("01:00:00")]
    Task<string> RunAsync();
}
