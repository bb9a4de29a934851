using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Monitoring;

/// <summary>Hosting of the model monitoring job.</summary>
public static class ModelMonitoringExtensions
{
    /// <summary>
    /// Registers <see cref="ModelMonitor"/> with its options (<c>Monitoring:*</c>, validated at start) and, when
    /// <see cref="MonitoringOptions.ScheduleEnabled"/>, a start-up task that starts the monitor grain's reminder. Needs an
    /// <c>ITrackingStore</c> registered (the API registers the one the prediction log writes to).
    /// </summary>
    public static ISiloBuilder AddModelMonitoring(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<MonitoringOptions>().BindConfiguration(MonitoringOptions.Section)
            .Validate(o => o.Problem() is null, "Monitoring settings are invalid: see MonitoringOptions.Problem (Period >= 1 min, Window > 0, LabelLookback >= Window, thresholds in range).")
            .ValidateOnStart();
        silo.Services.AddSingleton<AlertWebhook>();
        silo.Services.AddSingleton<ModelMonitor>();
        silo.AddStartupTask(async (services, cancellationToken) =>
        {
            if (services.GetRequiredService<IOptions<MonitoringOptions>>().Value.ScheduleEnabled)
            {
                await StartupCalls.RunAsync(() => services.GetRequiredService<IGrainFactory>().GetGrain<IModelMonitorGrain>("default").StartAsync(), cancellationToken);
            }
        });
        return silo;
    }
}
