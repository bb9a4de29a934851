using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>Hosting of the retraining job.</summary>
public static class RetrainingExtensions
{
    /// <summary>
    /// Registers <see cref="ModelRetraining"/> with its options (<c>Retraining:*</c>, validated at start) and, when
    /// <see cref="RetrainingOptions.ScheduleEnabled"/>, a start-up task that starts the retraining grain's reminder. Needs
    /// an <see cref="IChallengerTrainer"/> (the silo host registers the in-process trainer) and an <c>ITrackingStore</c>.
    /// </summary>
    public static ISiloBuilder AddModelRetraining(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<RetrainingOptions>().BindConfiguration(RetrainingOptions.Section)
            .Validate(o => o.Problem() is null, "Retraining settings are invalid: see RetrainingOptions.Problem (Period >= 1 min, Cooldown >= 0, TrainingDays >= 1, trainer sizes, MinAurocGain in [-1, 1], MaxBrierIncrease in [0, 1], OnAlerts kinds).")
            .ValidateOnStart();
        silo.Services.AddSingleton<ModelRetraining>();
        silo.Services.AddSingleton<RetrainingCooldown>();
        silo.AddStartupTask(async (services, cancellationToken) =>
        {
            if (services.GetRequiredService<IOptions<RetrainingOptions>>().Value.ScheduleEnabled)
            {
                await StartupCalls.RunAsync(() => services.GetRequiredService<IGrainFactory>().GetGrain<IRetrainingGrain>("default").StartAsync(), cancellationToken);
            }
        });
        return silo;
    }
}
