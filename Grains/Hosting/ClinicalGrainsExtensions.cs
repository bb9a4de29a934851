using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Online;
using ClinicalTrials.Grains.Storage;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Lake.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace ClinicalTrials.Grains.Hosting;

/// <summary>What a silo needs to host the clinical grains; shared by the silo host and the grain tests.</summary>
public static class ClinicalGrainsExtensions
{
    /// <summary>
    /// Registers what every profile needs: the ingest path, the online feature store (Redis, active only when
    /// <see cref="OnlineStoreOptions.ConnectionString"/> is set), the model store and the silo's production model
    /// (<see cref="ModelHost"/>, polling the registry), the lake and the serializer for the domain records. The
    /// journal, the <see cref="StorageNames.Clinical"/> grain storage and the reminder service come from the profile:
    /// <see cref="AddEmbeddedStorage"/>, or the cluster profile's. Configure <see cref="JournalOptions"/> and
    /// <see cref="OnlineStoreOptions"/> separately.
    /// </summary>
    public static ISiloBuilder AddClinicalGrains(this ISiloBuilder silo)
    {
        // The journal opens with the silo, not in its first request: opening the embedded one recovers the last
        // commit, rebuilds the message_id filters and upgrades an older ledger, which can take seconds; a broken data
        // directory fails the start.
        silo.AddStartupTask((services, _) =>
        {
            services.GetRequiredService<IIngestJournal>();
            return Task.CompletedTask;
        });
        silo.Services.AddMetrics();
        silo.Services.AddSingleton<ClinicalMetrics>();
        silo.Services.AddSingleton<ClinicalIngest>();
        silo.Services.AddSingleton<OnlineFeatureStore>();
        silo.Services.AddHostedService(services => services.GetRequiredService<OnlineFeatureStore>());
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<ModelStore>();
        silo.Services.AddSingleton<ModelHost>();
        silo.Services.AddHostedService(services => services.GetRequiredService<ModelHost>());
        silo.Services.AddSingleton(services => new LakeContext(
            services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory,
            services.GetRequiredService<IOptions<StorageOptions>>().Value.Create(services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory),
            services.GetRequiredService<IOptions<PipelineOptions>>().Value,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetService<ILakeState>(),
            services.GetService<IJournalBronze>(),
            services.GetService<IAuditTrailRetention>()));
        silo.Services.AddSingleton(services => new PipelineJobs(services.GetRequiredService<LakeContext>()));
        silo.Services.AddClinicalSerialization();
        return silo;
    }

    /// <summary>
    /// The embedded profile's storage, all under <see cref="JournalOptions.DataDirectory"/>: the ingest journal, the
    /// <see cref="StorageNames.Clinical"/> grain storage in <c>state.db</c> beside it, and an in-memory reminder
    /// service (reminders are lost with the silo, which is why the scheduler re-registers them at every start).
    /// </summary>
    public static ISiloBuilder AddEmbeddedStorage(this ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IngestJournal>();
        silo.Services.AddSingleton<IIngestJournal>(services => services.GetRequiredService<IngestJournal>());
        silo.Services.AddSingleton<IJournalTail>(services => services.GetRequiredService<IngestJournal>());
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Clinical, (services, _) => new SqliteGrainStorage(
            Path.Combine(services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory, "state.db"),
            services.GetRequiredService<Serializer>()));
        silo.UseInMemoryReminderService();
        return silo;
    }

    /// <summary>
    /// Runs the pipeline jobs on schedule: a start-up task that starts the scheduler grain when
    /// <see cref="PipelineOptions.ScheduleEnabled"/> (idempotent, so every silo of a cluster may run it). The reminder
    /// service is the profile's.
    /// </summary>
    public static ISiloBuilder AddPipelineSchedule(this ISiloBuilder silo)
    {
        silo.AddStartupTask(async (services, cancellationToken) =>
        {
            if (services.GetRequiredService<IOptions<PipelineOptions>>().Value.ScheduleEnabled)
            {
                await StartupCalls.RunAsync(() => services.GetRequiredService<IGrainFactory>().GetGrain<IPipelineSchedulerGrain>("default").StartAsync(), cancellationToken);
            }
        });
        return silo;
    }

    /// <summary>
    /// Domain records (no Orleans attributes; Domain has no Orleans) cross silos as JSON; every other message type is an
    /// Orleans contract type in Grains.Interfaces. Our exceptions (a lake storage or journal that is unavailable, which the
    /// API answers with 503) cross with their own type, message and inner exception rather than failing to serialize
    /// (Orleans serializes only exceptions of its listed namespaces). Clients that send or receive them need this too.
    /// </summary>
    public static IServiceCollection AddClinicalSerialization(this IServiceCollection services)
    {
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("ClinicalTrials"));
        return services.AddSerializer(s => s.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("ClinicalTrials.Domain", StringComparison.Ordinal) == true));
    }
}
