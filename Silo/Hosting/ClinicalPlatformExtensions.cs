using ClinicalTrials.Api;
using ClinicalTrials.Grains;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Storage;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace ClinicalTrials.Silo.Hosting;

public static class ClinicalPlatformExtensions
{
    private const string DefaultUrls = "http://localhost:8080";

    /// <summary>
    /// The whole platform in one process: an Orleans silo with the grains, the ingest journal under the data
    /// directory, and the HTTP gateway. Needs no external server.
    /// </summary>
    public static WebApplicationBuilder AddClinicalPlatform(this WebApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
        {
            ["--data-dir"] = $"{JournalOptions.Section}:{nameof(JournalOptions.DataDirectory)}",
        });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }

        // Batches are limited per endpoint (ClinicalDataApi); Kestrel's own 30 MB cap would cut them first.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = ClinicalDataApi.MaxBatchBytes + 1);

        builder.Services.AddOptions<JournalOptions>().BindConfiguration(JournalOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "Journal:DataDirectory (--data-dir) must name a directory.")
            .Validate(o => o.MaxEntriesPerCommit > 0, "Journal:MaxEntriesPerCommit must be positive.")
            .ValidateOnStart();
        builder.Services.AddOptions<SiloOptions>().BindConfiguration(SiloOptions.Section);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IngestJournal>();
        builder.Services.AddSingleton<ClinicalIngest>();
        builder.Services.AddClinicalApi();

        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        builder.UseOrleans(orleans =>
        {
            orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort);
            orleans.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Clinical, (services, _) => new SqliteGrainStorage(
                Path.Combine(services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory, "state.db"),
                services.GetRequiredService<Serializer>()));
            // Domain records (no Orleans attributes) cross silos as JSON.
            orleans.Services.AddSerializer(s => s.AddJsonSerializer(
                isSupported: type => type.Namespace?.StartsWith("ClinicalTrials.Domain", StringComparison.Ordinal) == true));
        });
        return builder;
    }
}
