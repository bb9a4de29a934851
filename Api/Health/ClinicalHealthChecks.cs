using System.Data.Common;
using ClinicalTrials.Api.Predictions;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Streams.Kafka;
using Confluent.Kafka;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Online;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Health;

/// <summary>
/// The platform's health checks, one per component. Those tagged <see cref="Ready"/> decide whether this silo can take
/// data in (<c>/health/ready</c>): the journal takes writes, the silo has joined its cluster and is not stopping. The others only
/// describe (<c>/api/clinical/health</c>): none of them stops ingestion.
/// </summary>
public static class ClinicalHealthChecks
{
    public const string Ready = "ready";

    /// <summary>The data key of a result whose component is not configured (shown as <c>disabled</c>).</summary>
    public const string DisabledKey = "disabled";

    /// <summary>The data key of the Kafka check's partitions (<see cref="PartitionLag"/>), shown beside its detail.</summary>
    public const string PartitionsKey = "partitions";

    /// <summary>Below this much free disk the journal still works, but an operator should act now.</summary>
    private const long LowDiskBytes = 1L << 30;

    public static IServiceCollection AddClinicalHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<JournalHealthCheck>("journal", tags: [Ready])
            .AddCheck<GrainHealthCheck>("grains", tags: [Ready])
            .AddCheck<ShutdownHealthCheck>("shutdown", tags: [Ready])
            .AddCheck<DiskHealthCheck>("disk")
            .AddCheck<OnlineStoreHealthCheck>("online_store")
            .AddCheck<ModelHealthCheck>("model")
            .AddCheck<PredictionLogHealthCheck>("prediction_log")
            .AddCheck<ModelMonitoringHealthCheck>("model_monitoring")
            .AddCheck<KafkaHealthCheck>("kafka");
        return services;
    }

    /// <summary>
    /// Unhealthy when the journal does not read or does not take a probe write now (the data directory, or PostgreSQL). A journal whose
    /// last commit failed but whose disk takes writes again is degraded, not unhealthy: a load balancer routing on
    /// this would otherwise never send it the traffic whose next commit clears the failure.
    /// </summary>
    private sealed class JournalHealthCheck(IIngestJournal journal) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await journal.CheckReadableAsync();
            }
            catch (Exception e)
            {
                return HealthCheckResult.Unhealthy($"The journal cannot be read: {e.Message}");
            }

            try
            {
                await journal.CheckWritableAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                var lastCommit = journal.LastCommitAt is { } at ? $"Last commit at {at:O}." : "No commit yet.";
                return journal.LastError is { } error
                    ? HealthCheckResult.Degraded(
                        $"The last commit failed ({error.InnerException?.Message ?? error.Message}); the journal takes writes again. {lastCommit}")
                    : HealthCheckResult.Healthy(lastCommit);
            }
            catch (JournalUnavailableException e)
            {
                return HealthCheckResult.Unhealthy($"The journal does not take writes: {e.InnerException?.Message ?? e.Message}");
            }
            catch (TimeoutException)
            {
                return HealthCheckResult.Unhealthy("The journal did not take a probe write within 5 s.");
            }
        }
    }

    /// <summary>Healthy once this silo is an active member of its cluster and a grain answers through it.</summary>
    private sealed class GrainHealthCheck(IGrainFactory grains, IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            if (status != SiloStatus.Active)
            {
                return HealthCheckResult.Unhealthy($"This silo has not joined its cluster (membership status {status}).");
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await grains.GetGrain<IHealthProbeGrain>(0).PingAsync().WaitAsync(timeout.Token);
                return HealthCheckResult.Healthy("The silo is active in its cluster and a grain answered.");
            }
            catch (Exception e)
            {
                return HealthCheckResult.Unhealthy($"No grain answered: {e.Message}");
            }
        }
    }

    /// <summary>Unhealthy from the moment the silo began to stop, so a load balancer sends its new requests elsewhere.</summary>
    private sealed class ShutdownHealthCheck(ShutdownDrain drain) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(drain.IsDraining
                ? HealthCheckResult.Unhealthy($"This silo is stopping: it answers what it is sent for {drain.Period.TotalSeconds} s, then stops.")
                : HealthCheckResult.Healthy("Not stopping."));
    }

    /// <summary>The free space of the filesystem the data directory is on (its own mount, not the root's).</summary>
    private sealed class DiskHealthCheck(IOptions<JournalOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var dataDirectory = options.Value.DataDirectory;
            var free = new DriveInfo(dataDirectory).AvailableFreeSpace;
            var detail = $"{free / (1024 * 1024)} MiB free under {dataDirectory}.";
            return Task.FromResult(free < LowDiskBytes ? HealthCheckResult.Degraded(detail) : HealthCheckResult.Healthy(detail));
        }
    }

    /// <summary>Never unhealthy: while Redis is down ingestion goes on and the store catches up when it returns.</summary>
    private sealed class OnlineStoreHealthCheck(OnlineFeatureStore store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!store.IsEnabled)
            {
                return Task.FromResult(HealthCheckResult.Healthy("ConnectionStrings:Redis is not set; features are served from the grains only.",
                    new Dictionary<string, object> { [DisabledKey] = true }));
            }

            var dropped = store.DroppedUpdates > 0 ? $" {store.DroppedUpdates} updates dropped while the backlog was full." : "";
            return Task.FromResult(store.IsAvailable
                ? HealthCheckResult.Healthy(
                    $"Redis is connected; {store.PendingPatients} patients waiting. Last write at {store.LastWriteAt?.ToString("O") ?? "(none yet)"}.{dropped}")
                : HealthCheckResult.Degraded(
                    $"Redis is unavailable ({store.LastError ?? "not connected"}); {store.PendingPatients} patients' latest vectors wait for it.{dropped}"));
        }
    }

    /// <summary>
    /// Never unhealthy: without a model ingestion and features go on, only <c>/predict</c> answers 503. Degraded while
    /// no model is in production, or while this silo does not yet serve the one that is (it polls the registry).
    /// </summary>
    private sealed class ModelHealthCheck(IGrainFactory grains, ModelHost models) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            ModelVersionInfo? production;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                production = await ModelsApi.Registry(grains).GetProductionAsync().WaitAsync(timeout.Token);
            }
            catch (Exception e)
            {
                return HealthCheckResult.Degraded($"The model registry did not answer: {e.Message}");
            }

            var serving = models.CurrentVersion;
            return production is null
                ? HealthCheckResult.Degraded("No model is in production: /predict answers 503 until one is trained and promoted.")
                : serving == production.Version
                    ? HealthCheckResult.Healthy($"Serving {serving} (feature version {production.FeatureVersion}), in production since {production.PromotedAt:O}.")
                    : HealthCheckResult.Degraded($"{production.Version} is in production; this silo serves {serving ?? "no model"} until it loads it.");
        }
    }

    /// <summary>
    /// Never unhealthy: ingestion does not depend on the log database. Degraded while it cannot be written: predictions
    /// wait in memory, and once <see cref="PredictionLog.MaxPending"/> wait, <c>/predict</c> answers 503.
    /// </summary>
    private sealed class PredictionLogHealthCheck(PredictionLog log) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(log.LastError is { } error
                ? HealthCheckResult.Degraded(
                    $"{log.Description} cannot be written ({error}); {log.Pending} predictions wait for it, /predict answers 503 at {log.MaxPending}.")
                : HealthCheckResult.Healthy($"{log.Description}; {log.Pending} predictions waiting."));
    }

    /// <summary>
    /// Never unhealthy: the model's answers go on. Degraded while the latest monitoring run raised alerts or failed, or
    /// the tracking database cannot say; healthy before the first run.
    /// </summary>
    private sealed class ModelMonitoringHealthCheck(ITrackingStore store) : IHealthCheck
    {
        /// <summary>A database that does not answer must not hold the health answer.</summary>
        private static readonly TimeSpan MonitoringReadTimeout = TimeSpan.FromSeconds(2);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            MonitoringRunRecord? latest;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(MonitoringReadTimeout);
            try
            {
                latest = (await store.ListMonitoringRunsAsync(1, timeout.Token)).FirstOrDefault();
            }
            catch (Exception e) when (e is TrackingStoreUnavailableException or DbException
                || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Degraded($"The monitoring runs cannot be read: {e.Message}");
            }

            if (latest is null)
            {
                return HealthCheckResult.Healthy("No monitoring run yet.");
            }

            if (latest.Report is not { } json)
            {
                return HealthCheckResult.Degraded($"Monitoring run {latest.RunId} failed: {latest.Error}");
            }

            var alerts = MonitoringReport.FromJson(json).Alerts;
            return alerts.Count == 0
                ? HealthCheckResult.Healthy($"Monitoring run {latest.RunId} raised no alert.")
                : HealthCheckResult.Degraded($"Monitoring run {latest.RunId} raised {alerts.Count} alert(s): {string.Join(" ", alerts.Take(3).Select(a => $"{a.ModelVersion}: {a.Message}"))}");
        }
    }

    /// <summary>
    /// Never unhealthy: the broker keeps what is not yet read. The consumer group's lag per partition as the broker
    /// reports it (committed offset against high watermark), whichever silo reads the partition; degraded when the
    /// broker does not answer.
    /// </summary>
    private sealed class KafkaHealthCheck(IOptionsMonitor<KafkaStreamOptions> kafkaOptions) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var options = kafkaOptions.Get(BrokerIngress.KafkaProvider);
            if (string.IsNullOrWhiteSpace(options.BootstrapServers))
            {
                return HealthCheckResult.Healthy("Brokers:Kafka:BootstrapServers is not set.", new Dictionary<string, object> { [DisabledKey] = true });
            }

            try
            {
                var partitions = await Task.Run(() => KafkaGroupLag.Query(options, TimeSpan.FromSeconds(2)), cancellationToken);
                return HealthCheckResult.Healthy(
                    $"Group {options.GroupId}: {partitions.Sum(p => p.Lag)} records not yet committed over {partitions.Count} partitions.",
                    new Dictionary<string, object> { [PartitionsKey] = partitions });
            }
            catch (KafkaException e)
            {
                return HealthCheckResult.Degraded($"The Kafka cluster did not answer: {e.Error.Reason}");
            }
        }
    }
}
