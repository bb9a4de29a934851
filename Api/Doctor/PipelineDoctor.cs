using System.Diagnostics;
using ClinicalTrials.Api.Predictions;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Online;
using ClinicalTrials.Grains.Pipeline;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ClinicalTrials.Streams.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace ClinicalTrials.Api.Doctor;

/// <summary>
/// Walks the pipeline level by level, as an operator would at 3 a.m. (or a new user the first time): infrastructure
/// (data directory, lake storage, Redis, PostgreSQL), ingestion (journal, the Kafka and AMQP brokers when configured,
/// messages arriving, bronze), processing
/// (silver), features (offline, online), serving (model, prediction log), observability (<c>/metrics</c>). Each check
/// says pass, warn or fail with the figure it found and, unless it passed, what to do. A server that is not configured
/// passes as "not configured": the embedded profile needs none.
/// </summary>
public sealed class PipelineDoctor(
    IConfiguration configuration, PipelineJobs jobs, IIngestJournal journal, OnlineFeatureStore onlineStore,
    PredictionLog predictionLog, IGrainFactory grains, Microsoft.AspNetCore.Hosting.Server.IServer server, JwtSigningKey signingKey, TimeProvider time,
    IOptionsMonitor<KafkaStreamOptions> kafkaOptions, AmqpIngress? amqp = null)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private static readonly HttpClient Http = new() { Timeout = Patience };

    public async Task<DoctorReport> ExamineAsync(CancellationToken cancellationToken)
    {
        var layers = await LayersAsync(cancellationToken);
        // In the cluster profile bronze is the shared journal's rows until a job writes its sealed hours out.
        var backlog = jobs.Lake.JournalBronze is null ? new BronzeToSilverJob(jobs.Lake).Backlog() : null;
        var checks = new List<DoctorCheck>
        {
            DataDirectory(),
            await LakeStorageAsync(cancellationToken),
            await RedisAsync(),
            await PostgresAsync(cancellationToken),
            await JournalAsync(),
            await KafkaAsync(cancellationToken),
            Amqp(),
            await MessagesAsync(),
            Bronze(layers, backlog),
            JobLayer("processing", "silver", BronzeToSilverJob.JobName, layers, SilverLag(backlog)),
            JobLayer("features", "offline_features", "offline-features", layers, FeatureLag()),
            OnlineStore(),
            await ModelAsync(),
            PredictionLogCheck(),
            await MetricsAsync(cancellationToken),
        };
        var status = checks.Max(c => c.Status);
        var profile = configuration["Cluster:Mode"] is { Length: > 0 } mode ? $"cluster ({mode})" : "embedded";
        return new DoctorReport(profile, status, DateTimeOffset.UtcNow, checks, layers ?? []);
    }

    /// <summary>Null when the lake storage cannot be listed (the storage check says why).</summary>
    private async Task<IReadOnlyList<LayerStatus>?> LayersAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await PipelineStatus.ReadAsync(jobs.Lake, cancellationToken);
        }
        catch (LakeStorageUnavailableException)
        {
            return null;
        }
    }

    private DoctorCheck DataDirectory()
    {
        var directory = jobs.Lake.DataDirectory;
        try
        {
            var probe = Path.Combine(directory, ".doctor-probe");
            File.WriteAllBytes(probe, new byte[4096]);
            File.Delete(probe);
            var free = new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace / (1024 * 1024);
            return free < 1024
                ? new("infrastructure", "data_directory", CheckStatus.Warn, $"{directory}: writable, {free} MiB free",
                    "Less than 1 GiB free: the journal stops taking data when the disk is full. Free space or move --data-dir.")
                : new("infrastructure", "data_directory", CheckStatus.Pass, $"{directory}: writable, {free} MiB free");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new("infrastructure", "data_directory", CheckStatus.Fail, $"{directory}: {e.Message}",
                "The silo cannot write its data directory: check --data-dir (Journal:DataDirectory), its owner and permissions, and the disk.");
        }
    }

    private async Task<DoctorCheck> LakeStorageAsync(CancellationToken cancellationToken)
    {
        var storage = jobs.Lake.Storage;
        if (!jobs.Lake.StorageIsRemote)
        {
            return new("infrastructure", "lake_storage", CheckStatus.Pass, $"{storage.Description} (Storage:Provider=Local)");
        }

        const string key = "_doctor/probe";
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Patience * 2);
            await storage.PutBytesAsync(key, new byte[] { 1 }, timeout.Token);
            var read = await storage.GetBytesAsync(key, timeout.Token);
            await storage.DeleteAsync(key, timeout.Token);
            return read is [1]
                ? new("infrastructure", "lake_storage", CheckStatus.Pass,
                    $"{storage.Description}: write, read and delete in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms")
                : new("infrastructure", "lake_storage", CheckStatus.Fail, $"{storage.Description}: an object written was not read back",
                    "The bucket does not keep what is written: check Storage:S3:Bucket and the server.");
        }
        catch (Exception e) when (e is LakeStorageUnavailableException or OperationCanceledException)
        {
            return new("infrastructure", "lake_storage", CheckStatus.Fail, $"{storage.Description}: {(e as LakeStorageUnavailableException)?.InnerException?.Message ?? "no answer"}",
                "S3 does not answer: start it, or check Storage:S3:ServiceUrl, Bucket, AccessKey and SecretKey. Ingestion goes on; bronze copies, silver, features and models wait for it.");
        }
    }

    private async Task<DoctorCheck> KafkaAsync(CancellationToken cancellationToken)
    {
        var options = kafkaOptions.Get(BrokerIngress.KafkaProvider);
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            return new("ingestion", "kafka", CheckStatus.Pass, "not configured (Brokers:Kafka:BootstrapServers)");
        }

        try
        {
            var partitions = await Task.Run(() => KafkaGroupLag.Query(options, Patience / 2), cancellationToken);
            return new("ingestion", "kafka", CheckStatus.Pass,
                $"{options.BootstrapServers}: group {options.GroupId}, {partitions.Sum(p => p.Lag)} records not yet stored over {partitions.Count} partitions of {string.Join(", ", options.Topics)}");
        }
        catch (KafkaException e)
        {
            return new("ingestion", "kafka", CheckStatus.Fail, $"{options.BootstrapServers}: {e.Error.Reason}",
                "The Kafka cluster does not answer: start it, or fix Brokers:Kafka:BootstrapServers. Records wait in their topics and are read when it returns.");
        }
    }

    private DoctorCheck Amqp()
    {
        if (amqp is null)
        {
            return new("ingestion", "amqp", CheckStatus.Pass, "not configured (Brokers:Amqp:Address)");
        }

        return amqp.State switch
        {
            { Connected: true, Since: var since } => new("ingestion", "amqp", CheckStatus.Pass, $"connected since {since:u}"),
            { Since: null } => new("ingestion", "amqp", CheckStatus.Warn, "connecting", "The first connection to the broker has not completed yet; look again in a few seconds."),
            var state => new("ingestion", "amqp", CheckStatus.Fail, $"not connected since {state.Since:u}: {FirstLine(state.LastError ?? "closed")}",
                "The AMQP broker refuses or dropped the connection: start it, or fix Brokers:Amqp:Address (user, password, host, port) and the queues. Messages wait in their queues; the silo reconnects every few seconds."),
        };
    }

    private async Task<DoctorCheck> RedisAsync()
    {
        if (configuration.GetConnectionString("Redis") is not { Length: > 0 } connectionString)
        {
            return new("infrastructure", "redis", CheckStatus.Pass, "not configured (ConnectionStrings:Redis): features are served from the grains");
        }

        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = options.SyncTimeout = options.AsyncTimeout = (int)Patience.TotalMilliseconds / 2;
        options.ConnectRetry = 1;
        try
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            var latency = await redis.GetDatabase().PingAsync();
            return new("infrastructure", "redis", CheckStatus.Pass, $"{Endpoint(options)}: PING in {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new("infrastructure", "redis", CheckStatus.Fail, $"{Endpoint(options)}: {FirstLine(e.Message)}",
                "Redis does not answer: start it or fix ConnectionStrings:Redis. Ingestion goes on; the online store keeps the latest vectors and writes them when Redis returns.");
        }

        static string Endpoint(ConfigurationOptions options) => string.Join(",", options.EndPoints.Select(e => e.ToString()));
    }

    private async Task<DoctorCheck> PostgresAsync(CancellationToken cancellationToken)
    {
        if (configuration.GetConnectionString("Postgres") is not { Length: > 0 } connectionString)
        {
            return new("infrastructure", "postgres", CheckStatus.Pass, "not configured (ConnectionStrings:Postgres): the prediction log is SQLite tracking.db");
        }

        var target = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = (int)Patience.TotalSeconds, Pooling = false };
        var where = $"{target.Host}:{target.Port}/{target.Database}";
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return new("infrastructure", "postgres", CheckStatus.Pass, $"{where}: answers");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return new("infrastructure", "postgres", CheckStatus.Fail, $"{where}: {FirstLine((e as PostgresException)?.MessageText ?? e.Message)}",
                "PostgreSQL does not answer: start it or fix ConnectionStrings:Postgres. In the cluster profile ingestion answers 503 meanwhile; predictions wait in memory.");
        }
    }

    private async Task<DoctorCheck> JournalAsync()
    {
        try
        {
            await journal.CheckWritableAsync().WaitAsync(Patience);
            return new("ingestion", "journal", CheckStatus.Pass, "takes writes");
        }
        catch (Exception e) when (e is JournalUnavailableException or TimeoutException)
        {
            return new("ingestion", "journal", CheckStatus.Fail, $"does not take writes: {e.InnerException?.Message ?? e.Message}",
                "Ingestion answers 503: free the disk or repair the data directory (or PostgreSQL in the cluster profile).");
        }
    }

    private async Task<DoctorCheck> MessagesAsync()
    {
        var counters = await journal.CountersAsync();
        long Count(string outcome) => counters.Counters.Where(c => c.Outcome == outcome).Sum(c => c.Count);
        var (accepted, rejected) = (Count("accepted"), Count("rejected"));
        var figure = $"{accepted} accepted, {rejected} rejected";
        if (accepted == 0)
        {
            return new("ingestion", "messages", CheckStatus.Warn, figure,
                "No message accepted yet: send some (dotnet run -c Release --project Generator -- --url http://localhost:8080 --api-key KEY).");
        }

        var lastCommit = journal.LastCommitAt;
        var idle = lastCommit is { } at ? jobs.Lake.Clock.GetUtcNow() - at : (TimeSpan?)null;
        return idle is null || idle > TimeSpan.FromHours(1)
            ? new("ingestion", "messages", CheckStatus.Warn, $"{figure}; none received by this silo {(idle is { } i ? $"for {i.TotalMinutes:0} min" : "since it started")}",
                "No message arrives: are the sites (or the generator) sending, and to this address?")
            : new("ingestion", "messages", CheckStatus.Pass, $"{figure}; last commit {idle.Value.TotalSeconds:0} s ago");
    }

    private static DoctorCheck Bronze(IReadOnlyList<LayerStatus>? layers, BronzeBacklog? backlog)
    {
        var bronze = layers?.Single(l => l.Layer == "bronze");
        var sealing = backlog is null ? "" : $"; {backlog.SealedFiles} sealed (hour over), {backlog.Files - backlog.SealedFiles} still written";
        return bronze is null || bronze.Files == 0
            ? new("ingestion", "bronze", CheckStatus.Warn, "no bronze file", "Nothing stored yet: send messages first.")
            : new("ingestion", "bronze", CheckStatus.Pass, $"{bronze.Files} files, {bronze.Rows} lines, latest {bronze.LatestPartition}{sealing}");
    }

    /// <summary>How far silver lags bronze: the bronze bytes bronze-to-silver has not read yet (unknown in a cluster: null).</summary>
    private static (long Waiting, string Figure)? SilverLag(BronzeBacklog? backlog) => backlog is null
        ? null
        : (backlog.WaitingFiles, $"{backlog.WaitingFiles} bronze files ({backlog.WaitingBytes / 1024.0 / 1024:0.0} MiB) not yet in silver");

    /// <summary>How far the offline features lag silver: the silver dates changed since the features last took them.</summary>
    private (long Waiting, string Figure) FeatureLag()
    {
        var dates = jobs.Lake.State.SilverChanges().Count;
        return (dates, $"{dates} silver dates not yet in the offline features");
    }

    /// <summary>
    /// A layer a job writes: fresh while nothing waits for the job, or its last run succeeded within two schedule
    /// periods; stale when something waits (<paramref name="lag"/>) and the job has not run for longer.
    /// </summary>
    private DoctorCheck JobLayer(string level, string layer, string job, IReadOnlyList<LayerStatus>? layers, (long Waiting, string Figure)? lag)
    {
        var status = layers?.Single(l => l.Layer == layer);
        var run = jobs.Runs(job, 1).FirstOrDefault();
        var counts = status is null ? "lake storage unavailable" : $"{status.Files} files, {status.Rows} rows, latest {status.LatestPartition ?? "(none)"}";
        var behind = lag is { } l ? $"; {l.Figure}" : "";
        var period = jobs.Lake.Options.SchedulePeriod;
        if (status is null)
        {
            return new(level, layer, CheckStatus.Fail, counts, "See lake_storage.");
        }

        if (run is null)
        {
            return new(level, layer, CheckStatus.Warn, $"{counts}{behind}; {job} never ran",
                $"Run it: curl -X POST localhost:8080/api/pipeline/jobs/{job}/run (it runs every {period} when scheduled).");
        }

        var age = jobs.Lake.Clock.GetUtcNow() - (run.EndedAt ?? run.StartedAt);
        var figure = $"{counts}{behind}; last {job} run {run.Status} {age.TotalMinutes:0} min ago";
        return run.Status == "failed"
            ? new(level, layer, CheckStatus.Fail, figure, $"The last run failed ({run.Error}); see GET /api/pipeline/jobs, fix, and run it again.")
            : age > period * 2 && lag is not { Waiting: 0 }
                ? new(level, layer, CheckStatus.Warn, figure, $"Stale: the job runs every {period}; is the schedule on (Pipeline:ScheduleEnabled)?")
                : new(level, layer, CheckStatus.Pass, figure);
    }

    private DoctorCheck OnlineStore()
    {
        if (!onlineStore.IsEnabled)
        {
            return new("features", "online_store", CheckStatus.Pass, "not configured: features are served from the grains");
        }

        var figure = $"{onlineStore.PendingPatients} patients waiting; last write {onlineStore.LastWriteAt?.ToString("O") ?? "(none yet)"}";
        return onlineStore.IsAvailable
            ? new("features", "online_store", CheckStatus.Pass, figure)
            : new("features", "online_store", CheckStatus.Warn, $"{figure}; Redis unavailable ({onlineStore.LastError ?? "not connected"})",
                "Redis is behind: see the redis check. The latest vectors wait in memory (OnlineStore:MaxPendingPatients).");
    }

    private async Task<DoctorCheck> ModelAsync()
    {
        ModelVersionInfo? production;
        ScoringOutcome answer;
        try
        {
            production = await ModelsApi.Registry(grains).GetProductionAsync().WaitAsync(Patience);
            answer = await grains.GetGrain<IScoringGrain>(0).ScoreAsync([]).WaitAsync(Patience);
        }
        catch (Exception e) when (e is TimeoutException or LakeStorageUnavailableException)
        {
            return new("serving", "model", CheckStatus.Fail, $"the registry did not answer: {e.Message}", "See lake_storage: the registry reads the model store.");
        }

        if (production is null)
        {
            return new("serving", "model", CheckStatus.Fail, "no model in production: /predict answers 503",
                "Train one (dotnet run -c Release --project Trainer -- train --api http://localhost:8080 --api-key KEY) and promote it (POST /api/models/{version}/promote).");
        }

        return answer.ModelVersion == production.Version
            ? new("serving", "model", CheckStatus.Pass, $"{production.Version} in production, loaded and scoring")
            : new("serving", "model", CheckStatus.Warn, $"{production.Version} in production; this silo scores with {answer.ModelVersion ?? "no model"}",
                $"This silo has not loaded it yet (it polls every {ModelHost.PollInterval.TotalSeconds:0} s); if it stays so, its log says why.");
    }

    private DoctorCheck PredictionLogCheck() => predictionLog.LastError is { } error
        ? new("serving", "prediction_log", CheckStatus.Warn, $"{predictionLog.Description}: {error}; {predictionLog.Pending} waiting",
            $"The log database is away; predictions wait in memory and /predict answers 503 at {predictionLog.MaxPending}.")
        : new("serving", "prediction_log", CheckStatus.Pass, $"{predictionLog.Description}; {predictionLog.Pending} waiting");

    private async Task<DoctorCheck> MetricsAsync(CancellationToken cancellationToken)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null)
        {
            return new("observability", "metrics", CheckStatus.Fail, "the silo listens on no address", "Set --urls.");
        }

        var url = $"{LocalBase(address)}/metrics";
        try
        {
            // The doctor scrapes as Prometheus would, with a credential: a one-minute token of its own.
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
                signingKey.Mint("system:doctor", [Roles.MlEngineer], null, TimeSpan.FromMinutes(1), time.GetUtcNow()));
            using var response = await Http.SendAsync(request, cancellationToken);
            var text = await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync(cancellationToken);
            var series = text.Split('\n').Count(line => line.Length > 0 && line[0] != '#');
            return new("observability", "metrics", CheckStatus.Pass, $"{url}: {series} series");
        }
        catch (HttpRequestException e)
        {
            return new("observability", "metrics", CheckStatus.Fail, $"{url}: {e.Message}", "Prometheus cannot scrape this silo; its log says why.");
        }
    }

    /// <summary>The base URL to reach a server listening on <paramref name="address"/> from its own machine: a wildcard host becomes 127.0.0.1.</summary>
    public static string LocalBase(string address)
    {
        var uri = new Uri(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal));
        return uri.GetLeftPart(UriPartial.Authority);
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
