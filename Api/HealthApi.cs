using ClinicalTrials.Api.Predictions;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Streams.Kafka;
using Confluent.Kafka;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Online;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api;

/// <summary><c>GET /api/clinical/health</c>: each component's status; 503 only when data cannot be taken in.</summary>
public static class HealthApi
{
    /// <summary>Below this much free disk the journal still works, but an operator should act now.</summary>
    private const long LowDiskBytes = 1L << 30;

    public static void MapHealthApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/clinical/health", GetHealthAsync).WithTags("Operations").WithName("GetHealth")
            .WithSummary("Per-component health: journal, grains, disk, online_store, model, prediction_log, kafka.");

    private static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> GetHealthAsync(
        IIngestJournal journal, IOptions<JournalOptions> journalOptions, IGrainFactory grains, OnlineFeatureStore onlineStore, ModelHost models,
        PredictionLog predictionLog, IOptionsMonitor<KafkaStreamOptions> kafkaOptions)
    {
        var components = new Dictionary<string, ComponentHealth>
        {
            ["journal"] = await JournalHealthAsync(journal),
            ["grains"] = await GrainHealthAsync(grains),
            ["disk"] = DiskHealth(journalOptions.Value.DataDirectory),
            ["online_store"] = OnlineStoreHealth(onlineStore),
            ["model"] = await ModelHealthAsync(grains, models),
            ["prediction_log"] = PredictionLogHealth(predictionLog),
            ["kafka"] = await KafkaHealthAsync(kafkaOptions.Get(BrokerIngress.KafkaProvider)),
        };
        var status = components.Values.Any(c => c.Status == HealthStatus.Unhealthy) ? HealthStatus.Unhealthy
            : components.Values.Any(c => c.Status == HealthStatus.Degraded) ? HealthStatus.Degraded
            : HealthStatus.Healthy;
        var report = new HealthReport(status, DateTimeOffset.UtcNow, components);
        return status == HealthStatus.Unhealthy
            ? TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(report);
    }

    /// <summary>
    /// Unhealthy when the journal does not read or does not take a probe write now (the data directory, or PostgreSQL). A journal whose
    /// last commit failed but whose disk takes writes again is degraded, not unhealthy: a load balancer routing on
    /// this would otherwise never send it the traffic whose next commit clears the failure.
    /// </summary>
    private static async Task<ComponentHealth> JournalHealthAsync(IIngestJournal journal)
    {
        try
        {
            await journal.CheckReadableAsync();
        }
        catch (Exception e)
        {
            return new ComponentHealth(HealthStatus.Unhealthy, $"The journal cannot be read: {e.Message}");
        }

        try
        {
            await journal.CheckWritableAsync().WaitAsync(TimeSpan.FromSeconds(5));
            var lastCommit = journal.LastCommitAt is { } at ? $"Last commit at {at:O}." : "No commit yet.";
            return journal.LastError is { } error
                ? new ComponentHealth(HealthStatus.Degraded,
                    $"The last commit failed ({error.InnerException?.Message ?? error.Message}); the journal takes writes again. {lastCommit}")
                : new ComponentHealth(HealthStatus.Healthy, lastCommit);
        }
        catch (JournalUnavailableException e)
        {
            return new ComponentHealth(HealthStatus.Unhealthy, $"The journal does not take writes: {e.InnerException?.Message ?? e.Message}");
        }
        catch (TimeoutException)
        {
            return new ComponentHealth(HealthStatus.Unhealthy, "The journal did not take a probe write within 5 s.");
        }
    }

    private static async Task<ComponentHealth> GrainHealthAsync(IGrainFactory grains)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await grains.Site("HEALTHCHECK").GetSummaryAsync().WaitAsync(timeout.Token);
            return new ComponentHealth(HealthStatus.Healthy, "A grain answered.");
        }
        catch (Exception e)
        {
            return new ComponentHealth(HealthStatus.Unhealthy, $"No grain answered: {e.Message}");
        }
    }

    /// <summary>Never unhealthy: while Redis is down ingestion goes on and the store catches up when it returns.</summary>
    private static ComponentHealth OnlineStoreHealth(OnlineFeatureStore store)
    {
        if (!store.IsEnabled)
        {
            return new ComponentHealth(HealthStatus.Disabled, "ConnectionStrings:Redis is not set; features are served from the grains only.");
        }

        var dropped = store.DroppedUpdates > 0 ? $" {store.DroppedUpdates} updates dropped while the backlog was full." : "";
        return store.IsAvailable
            ? new ComponentHealth(HealthStatus.Healthy,
                $"Redis is connected; {store.PendingPatients} patients waiting. Last write at {store.LastWriteAt?.ToString("O") ?? "(none yet)"}.{dropped}")
            : new ComponentHealth(HealthStatus.Degraded,
                $"Redis is unavailable ({store.LastError ?? "not connected"}); {store.PendingPatients} patients' latest vectors wait for it.{dropped}");
    }

    /// <summary>
    /// Never unhealthy: ingestion does not depend on the log database. Degraded while it cannot be written: predictions
    /// wait in memory, and once <see cref="PredictionLog.MaxPending"/> wait, <c>/predict</c> answers 503.
    /// </summary>
    private static ComponentHealth PredictionLogHealth(PredictionLog log) => log.LastError is { } error
        ? new ComponentHealth(HealthStatus.Degraded,
            $"{log.Description} cannot be written ({error}); {log.Pending} predictions wait for it, /predict answers 503 at {log.MaxPending}.")
        : new ComponentHealth(HealthStatus.Healthy, $"{log.Description}; {log.Pending} predictions waiting.");

    /// <summary>
    /// Never unhealthy: without a model ingestion and features go on, only <c>/predict</c> answers 503. Degraded while
    /// no model is in production, or while this silo does not yet serve the one that is (it polls the registry).
    /// </summary>
    private static async Task<ComponentHealth> ModelHealthAsync(IGrainFactory grains, ModelHost models)
    {
        ModelVersionInfo? production;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            production = await ModelsApi.Registry(grains).GetProductionAsync().WaitAsync(timeout.Token);
        }
        catch (Exception e)
        {
            return new ComponentHealth(HealthStatus.Degraded, $"The model registry did not answer: {e.Message}");
        }

        var serving = models.CurrentVersion;
        return production is null
            ? new ComponentHealth(HealthStatus.Degraded, "No model is in production: /predict answers 503 until one is trained and promoted.")
            : serving == production.Version
                ? new ComponentHealth(HealthStatus.Healthy, $"Serving {serving} (feature version {production.FeatureVersion}), in production since {production.PromotedAt:O}.")
                : new ComponentHealth(HealthStatus.Degraded, $"{production.Version} is in production; this silo serves {serving ?? "no model"} until it loads it.");
    }

    /// <summary>
    /// Never unhealthy: the broker keeps what is not yet read. The consumer group's lag per partition as the broker
    /// reports it (committed offset against high watermark), whichever silo reads the partition; degraded when the
    /// broker does not answer.
    /// </summary>
    private static async Task<ComponentHealth> KafkaHealthAsync(KafkaStreamOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            return new ComponentHealth(HealthStatus.Disabled, "Brokers:Kafka:BootstrapServers is not set.");
        }

        try
        {
            var partitions = await Task.Run(() => KafkaGroupLag.Query(options, TimeSpan.FromSeconds(2)));
            return new ComponentHealth(HealthStatus.Healthy,
                $"Group {options.GroupId}: {partitions.Sum(p => p.Lag)} records not yet committed over {partitions.Count} partitions.", partitions);
        }
        catch (KafkaException e)
        {
            return new ComponentHealth(HealthStatus.Degraded, $"The Kafka cluster did not answer: {e.Error.Reason}");
        }
    }

    /// <summary>The free space of the filesystem the data directory is on (its own mount, not the root's).</summary>
    private static ComponentHealth DiskHealth(string dataDirectory)
    {
        var free = new DriveInfo(dataDirectory).AvailableFreeSpace;
        return new ComponentHealth(free < LowDiskBytes ? HealthStatus.Degraded : HealthStatus.Healthy, $"{free / (1024 * 1024)} MiB free under {dataDirectory}.");
    }
}

public enum HealthStatus
{
    Healthy,
    Degraded,
    Unhealthy,

    /// <summary>A component that is not configured; it does not count towards the overall status.</summary>
    Disabled,
}

/// <summary>One component's status; for Kafka also each partition's committed offset, high watermark and lag.</summary>
public sealed record ComponentHealth(
    HealthStatus Status,
    string Detail,
    IReadOnlyList<PartitionLag>? Partitions = null);

public sealed record HealthReport(HealthStatus Status, DateTimeOffset CheckedAt, IReadOnlyDictionary<string, ComponentHealth> Components);
