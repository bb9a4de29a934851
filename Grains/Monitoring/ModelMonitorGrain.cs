using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Pipeline;
using ClinicalTrials.Grains.Retraining;
using ClinicalTrials.Grains.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Monitoring;

/// <summary>
/// Runs <see cref="ModelMonitor"/> on its reminder and on demand; not reentrant, so runs never overlap (a second request
/// waits for the first and then runs). The work runs off the grain scheduler. A run whose report holds alerts of the
/// production model of the kinds <see cref="RetrainingOptions.OnAlerts"/> names starts a retraining, unless one started
/// within <see cref="RetrainingOptions.Cooldown"/>.
/// </summary>
public sealed class ModelMonitorGrain(
    [PersistentState("model-monitor-schedule", StorageNames.Clinical)] IPersistentState<PipelineScheduleState> state,
    ModelMonitor monitor,
    IOptions<MonitoringOptions> options,
    IOptions<RetrainingOptions> retraining,
    RetrainingCooldown cooldown,
    IGrainFactory grains,
    ILogger<ModelMonitorGrain> logger)
    : Grain, IModelMonitorGrain, IRemindable
{
    private const string Reminder = "model-monitoring";

    /// <summary>Registers the reminder (<see cref="ReminderSchedule"/>); the first run comes one period after registration.</summary>
    public async Task StartAsync()
    {
        var period = options.Value.Period;
        if (await ReminderSchedule.EnsureAsync(this, state, period, [(Reminder, period)]))
        {
            logger.LogInformation("Model monitoring every {Period}", period);
        }
    }

    public async Task<string> RunAsync() => (await Task.Run(() => monitor.RunAsync(RetrainOnAlertsAsync))).RunId;

    /// <summary>
    /// Starts a retraining when the report holds alerts of the production model of the kinds
    /// <see cref="RetrainingOptions.OnAlerts"/> names, unless the cooldown holds it back (logged, not a decision: the
    /// run's record says it); returns which, or null when no alert asks for one.
    /// </summary>
    /// <remarks>
    /// Runs inside the monitor's work, off the grain scheduler, so it calls through the injected factory: the grain's own
    /// <c>GrainFactory</c> refuses a thread outside the activation.
    /// </remarks>
    private async Task<AlertRetraining?> RetrainOnAlertsAsync(MonitoringReport report)
    {
        var production = await grains.GetGrain<IModelRegistryGrain>(ModelArtifacts.ModelName).GetProductionAsync();
        if (retraining.Value.AlertTrigger(report, production?.Version) is not { } trigger)
        {
            return null;
        }

        var retrainer = grains.GetGrain<IRetrainingGrain>("default");
        var lastStarted = await retrainer.LastStartedAsync();
        if (cooldown.BlockedUntil(lastStarted) is { } until)
        {
            logger.LogInformation("Monitoring run {RunId} starts no retraining for {Trigger}: the last one started at {LastStarted}, within Retraining:Cooldown; alerts may start one from {Until}",
                report.RunId, trigger.By, lastStarted, until);
            return new AlertRetraining(AlertRetraining.SkippedByCooldown, trigger.By,
                $"the last retraining started at {lastStarted:O}; within Retraining:Cooldown, alerts start none before {until:O}");
        }

        logger.LogWarning("Monitoring run {RunId} starts a retraining: {Trigger}", report.RunId, trigger.By);
        // Not awaited: a retraining takes minutes; its decision is recorded in the registry.
        retrainer.RetrainAsync(trigger).Ignore();
        return new AlertRetraining(AlertRetraining.Started, trigger.By, null);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Reminder)
        {
            // Not awaited: the run is queued behind this turn, and a long run must not hold the reminder's call.
            this.AsReference<IModelMonitorGrain>().RunAsync().Ignore();
        }

        return Task.CompletedTask;
    }
}
