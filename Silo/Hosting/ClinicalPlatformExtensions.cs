using ClinicalTrials.Api;
using ClinicalTrials.Api.Health;
using ClinicalTrials.Grains.Hosting;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Monitoring;
using ClinicalTrials.Grains.Online;
using ClinicalTrials.Grains.Retraining;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace ClinicalTrials.Silo.Hosting;

public static class ClinicalPlatformExtensions
{
    /// <summary>Where HTTP listens when no setting says (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, Kestrel endpoints).</summary>
    public const string DefaultUrls = "http://localhost:8080";

    /// <summary>
    /// The whole platform in one process: an Orleans silo with the grains, the ingest journal and the HTTP gateway. In
    /// the embedded default (no server needed) the journal and grain state live under the data directory; with
    /// <c>Cluster:Mode=Postgres</c> the silo joins a cluster on PostgreSQL (docs/cluster.md). With
    /// <c>ConnectionStrings:Redis</c> set it also keeps every patient's features in Redis (the online store).
    /// </summary>
    public static WebApplicationBuilder AddClinicalPlatform(this WebApplicationBuilder builder)
    {
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
        builder.Services.AddOptions<OnlineStoreOptions>().BindConfiguration(OnlineStoreOptions.Section)
            .Configure<IConfiguration>((o, configuration) => o.ConnectionString = configuration.GetConnectionString("Redis"))
            .Validate(o => o.MaxPendingPatients > 0, "OnlineStore:MaxPendingPatients must be positive.")
            .ValidateOnStart();
        builder.Services.AddLakeOptions();
        builder.Services.AddOptions<SiloOptions>().BindConfiguration(SiloOptions.Section);
        builder.Services.AddOptions<ClusterProfileOptions>().BindConfiguration(ClusterProfileOptions.Section)
            .Validate<IOptions<HostOptions>>((o, host) => o.Drain >= TimeSpan.Zero && o.Drain < host.Value.ShutdownTimeout,
                "Cluster:ShutdownDrain must be zero or more and shorter than the host's shutdown timeout (DOTNET_shutdownTimeoutSeconds, 30 s by default), which counts it.")
            .ValidateOnStart();
        builder.Services.AddSingleton(services => new ShutdownDrain(
            services.GetRequiredService<IOptions<ClusterProfileOptions>>().Value.Drain,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<ShutdownDrain>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<ShutdownDrain>());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddClinicalApi();
        builder.Services.AddSingleton<IChallengerTrainer, InProcessChallengerTrainer>();
        builder.AddClinicalTelemetry();

        var silo = SiloOptions.From(builder.Configuration);
        var cluster = ClusterProfileOptions.From(builder.Configuration);
        builder.UseOrleans(orleans =>
        {
            if (cluster.Mode == ClusterMode.Postgres)
            {
                orleans.UsePostgresCluster(cluster, silo, ClusterProfile.ConnectionString(builder.Configuration));
            }
            else
            {
                orleans.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort);
                orleans.AddEmbeddedStorage();
            }

            orleans.AddClinicalGrains();
            orleans.AddPipelineSchedule();
            orleans.AddModelMonitoring();
            orleans.AddModelRetraining();
            orleans.AddBrokerIngress(builder.Configuration);
            orleans.UseKubernetesHostingInsidePods(builder.Configuration);
            if (TelemetryExtensions.TracesExported(builder.Configuration))
            {
                orleans.AddActivityPropagation();
            }

            // Every silo collects its own grain statistics; any silo's /dashboard shows the whole cluster (DashboardEndpoints).
            orleans.AddDashboard(o => o.HideTrace = true);
        });
        return builder;
    }

    /// <summary>Binds and validates the lake's options (<c>Storage</c>, <c>Pipeline</c>) at start; the S3 keys are never logged.</summary>
    public static IServiceCollection AddLakeOptions(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section)
            .Validate(o => o.Problem() is null, "Storage: Provider is Local or S3; S3 needs ServiceUrl, Bucket, AccessKey and SecretKey.")
            .ValidateOnStart();
        services.AddOptions<PipelineOptions>().BindConfiguration(PipelineOptions.Section)
            .Validate(o => o.Problem() is null, "Pipeline: Retention days positive; MaxRowsInMemory >= 1000; SchedulePeriod >= 1 minute.")
            .ValidateOnStart();
        return services;
    }
}
