using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Pipeline;
using ClinicalTrials.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// Runs <see cref="ModelRetraining"/> on its reminder, on an alert and on demand; not reentrant, so retrainings never
/// overlap (a second request waits for the first and then runs). The work runs off the grain scheduler. Keeps when the
/// last retraining started, for the alerts' cooldown (<see cref="RetrainingCooldown"/>).
/// </summary>
public sealed class RetrainingGrain(
    [PersistentState("retraining-schedule", StorageNames.Clinical)] IPersistentState<PipelineScheduleState> state,
    [PersistentState("retraining", StorageNames.Clinical)] IPersistentState<RetrainingState> last,
    ModelRetraining retraining,
    IOptions<RetrainingOptions> options,
    TimeProvider clock,
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

    public async Task<ModelDecision> RetrainAsync(ModelTrigger trigger)
    {
        // Stored before the work: the cooldown counts from the start, and a retraining that fails still counts.
        last.State.LastStartedAt = clock.GetUtcNow();
        await last.WriteStateAsync();
        return await Task.Run(() => retraining.RunAsync(trigger));
    }

    public Task<DateTimeOffset?> LastStartedAsync() => Task.FromResult(last.State.LastStartedAt);

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
