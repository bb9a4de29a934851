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
/// production model of the kinds <see cref="RetrainingOptions.OnAlerts"/> names starts a retraining.
/// </summary>
public sealed class ModelMonitorGrain(
    [PersistentState("model-monitor-schedule", StorageNames.Clinical)] IPersistentState<PipelineScheduleState> state,
    ModelMonitor monitor,
    IOptions<MonitoringOptions> options,
    IOptions<RetrainingOptions> retraining,
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

    public async Task<string> RunAsync()
    {
        var record = await Task.Run(() => monitor.RunAsync());
        if (record.Report is { } report)
        {
            var production = await GrainFactory.GetGrain<IModelRegistryGrain>(ModelArtifacts.ModelName).GetProductionAsync();
            if (retraining.Value.AlertTrigger(MonitoringReport.FromJson(report), production?.Version) is { } trigger)
            {
                logger.LogWarning("Monitoring run {RunId} starts a retraining: {Trigger}", record.RunId, trigger.By);
                // Not awaited: a retraining takes minutes; its decision is recorded in the registry.
                GrainFactory.GetGrain<IRetrainingGrain>("default").RetrainAsync(trigger).Ignore();
            }
        }

        return record.RunId;
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
