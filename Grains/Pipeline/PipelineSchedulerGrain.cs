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

    /// <summary>Registers the jobs' reminders (<see cref="ReminderSchedule"/>).</summary>
    public async Task StartAsync()
    {
        var period = options.Value.SchedulePeriod;
        // Staggered first runs, bronze-to-silver first, so each job usually finds the previous one's output.
        var reminders = jobs.Names.Select((name, i) => (Prefix + name, TimeSpan.FromMinutes(1 + (5 * i)))).ToList();
        if (await ReminderSchedule.EnsureAsync(this, state, period, reminders))
        {
            logger.LogInformation("Pipeline schedule: {Jobs} every {Period}", string.Join(", ", jobs.Names), period);
        }
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
