using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Pipeline;
using ClinicalTrials.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// Runs <see cref="ModelRetraining"/> on its reminder, on an alert and on demand; not reentrant, so retrainings never
/// overlap (a second request waits for the first and then runs). The work runs off the grain scheduler.
/// </summary>
public sealed class RetrainingGrain(
    [PersistentState("retraining-schedule", StorageNames.Clinical)] IPersistentState<PipelineScheduleState> state,
    ModelRetraining retraining,
    IOptions<RetrainingOptions> options,
    ILogger<RetrainingGrain> logger)
    : Grain, IRetrainingGrain, IRemindable
{
    public const string Reminder = "model-retraining";

    /// <summary>Registers the reminder (<see cref="ReminderSchedule"/>); the first run comes one period after registration.</summary>
    public async Task StartAsync()
    {
        var period = options.Value.Period;
        if (await ReminderSchedule.EnsureAsync(this, state, period, [(Reminder, period)]))
        {
            logger.LogInformation("Model retraining every {Period}", period);
        }
    }

    public Task<ModelDecision> RetrainAsync(ModelTrigger trigger) => Task.Run(() => retraining.RunAsync(trigger));

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Reminder)
        {
            // Not awaited: the run is queued behind this turn, and a long run must not hold the reminder's call.
            this.AsReference<IRetrainingGrain>().RetrainAsync(new ModelTrigger(ModelTrigger.Schedule, $"reminder {Reminder}")).Ignore();
        }

        return Task.CompletedTask;
    }
}
