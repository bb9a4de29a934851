using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Online;
using ClinicalTrials.Grains.Storage;
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
    /// Registers the ingest journal and the ingest path (under <see cref="JournalOptions.DataDirectory"/>), the
    /// <see cref="StorageNames.Clinical"/> grain storage in <c>state.db</c> beside the journal, the online feature store
    /// (Redis, active only when <see cref="OnlineStoreOptions.ConnectionString"/> is set), the model store and the silo's
    /// production model (<see cref="ModelHost"/>, polling the registry) and the serializer for the
    /// domain records. Configure <see cref="JournalOptions"/> and <see cref="OnlineStoreOptions"/> separately.
    /// </summary>
    public static ISiloBuilder AddClinicalGrains(this ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IngestJournal>();
        silo.Services.AddSingleton<ClinicalIngest>();
        silo.Services.AddSingleton<OnlineFeatureStore>();
        silo.Services.AddHostedService(services => services.GetRequiredService<OnlineFeatureStore>());
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<ModelStore>();
        silo.Services.AddSingleton<ModelHost>();
        silo.Services.AddHostedService(services => services.GetRequiredService<ModelHost>());
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Clinical, (services, _) => new SqliteGrainStorage(
            Path.Combine(services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory, "state.db"),
            services.GetRequiredService<Serializer>()));
        silo.Services.AddClinicalSerialization();
        return silo;
    }

    /// <summary>Domain records (no Orleans attributes) cross silos as JSON. Clients that send them need this too.</summary>
    public static IServiceCollection AddClinicalSerialization(this IServiceCollection services) =>
        services.AddSerializer(s => s.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("ClinicalTrials.Domain", StringComparison.Ordinal) == true));
}
