namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// One pipeline job, keyed by its name (<c>bronze-to-silver</c>, <c>offline-features</c>, <c>retention</c>). There is one
/// activation per name in the cluster and it runs one call at a time, so a job never runs twice at once; a second
/// request waits for the first to end and then runs (it finds the work done and ends quickly).
/// </summary>
[Alias("job")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Runs the job to its end and returns the run's record. <paramref name="from"/>/<paramref name="to"/> ask for a backfill range.</summary>
    [Alias("run")]
    [ResponseTimeout("04:00:00")]
    Task<JobRun> RunAsync(DateOnly? from, DateOnly? to);
}

/// <summary>
/// Runs every pipeline job on a schedule with Orleans reminders (one reminder per job, period
/// <c>Pipeline:SchedulePeriod</c>, hourly by default). Keyed "default". <see cref="StartAsync"/> (re)registers the
/// reminders; the silo calls it at start, so an in-memory reminder service (the embedded default) is enough.
/// </summary>
[Alias("pipeline-scheduler")]
public interface IPipelineSchedulerGrain : IGrainWithStringKey
{
    [Alias("start")]
    Task StartAsync();
}
