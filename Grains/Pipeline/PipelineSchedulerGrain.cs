using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Pipeline;

/// <summary>Turns reminders into job runs: one reminder per job, each tick starts that job's grain and does not wait for it.</summary>
public sealed class PipelineSchedulerGrain(
    [PersistentState("pipeline-schedule", StorageNames.Clinical)] IPersistentState<PipelineScheduleState> state,
    PipelineJobs jobs,
    IOptions<PipelineOptions> options,
    ILogger<PipelineSchedulerGrain> logger)
    : Grain, IPipelineSchedulerGrain, IRemindable
{
    private const string Prefix = "job:";

    /// <summary>
    /// Registers the jobs' reminders, unless they are registered already with this period: every silo of a cluster
    /// calls this at its start, and registering again would move every job's next run to its first-run delay, so that
    /// a rolling restart would postpone the jobs each time.
    /// </summary>
    public async Task StartAsync()
    {
        var period = options.Value.SchedulePeriod;
        var registered = (await this.GetReminders()).Select(r => r.ReminderName).ToHashSet(StringComparer.Ordinal);
        if (state.State.Period == period && jobs.Names.All(name => registered.Contains(Prefix + name)))
        {
            return;
        }

        var offset = 0;
        foreach (var name in jobs.Names)
        {
            // Staggered first runs, bronze-to-silver first, so each job usually finds the previous one's output.
            await this.RegisterOrUpdateReminder(Prefix + name, TimeSpan.FromMinutes(1 + (5 * offset++)), period);
        }

        state.State.Period = period;
        await state.WriteStateAsync();
        logger.LogInformation("Pipeline schedule: {Jobs} every {Period}", string.Join(", ", jobs.Names), period);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName.StartsWith(Prefix, StringComparison.Ordinal))
        {
            // Not awaited: a long run must not hold the scheduler; the job grain serialises runs of one job.
            GrainFactory.GetGrain<IJobGrain>(reminderName[Prefix.Length..]).RunAsync(null, null).Ignore();
        }

        return Task.CompletedTask;
    }
}

/// <summary>The period the scheduler's reminders were registered with.</summary>
[GenerateSerializer, Alias("pipeline-schedule-state")]
public sealed class PipelineScheduleState
{
    [Id(0)]
    public TimeSpan? Period { get; set; }
}
