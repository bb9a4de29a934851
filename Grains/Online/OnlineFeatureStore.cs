using System.Globalization;
using System.Threading.Channels;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ClinicalTrials.Grains.Online;

/// <summary>The online feature store (Redis). Without a connection string it is disabled and nothing connects.</summary>
public sealed class OnlineStoreOptions
{
    public const string Section = "OnlineStore";

    /// <summary>A StackExchange.Redis configuration string such as <c>127.0.0.1:6379</c> (from <c>ConnectionStrings:Redis</c>).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Most patients whose latest vector waits to be written. Beyond it (a long Redis outage with many patients
    /// updated) updates of further patients are dropped until the backlog drains, so memory stays bounded.
    /// </summary>
    public int MaxPendingPatients { get; set; } = 50_000;
}

/// <summary>
/// Copies every patient's current feature vector to the Redis hash <c>patient:{patient_id}:features</c> (one field per
/// feature, plus <c>as_of</c>, <c>updated_at</c> and <c>feature_version</c>; TTL 48 h) off the grains' hot path.
/// <para>
/// <see cref="Publish"/> only records the patient's latest vector in memory, replacing any that is still waiting, and
/// never waits for Redis. One writer takes everything waiting and writes it in pipelined batches. While Redis is down
/// the vectors stay (latest per patient, at most <see cref="OnlineStoreOptions.MaxPendingPatients"/>) and are written
/// when it returns; ingestion goes on regardless.
/// </para>
/// </summary>
public sealed partial class OnlineFeatureStore(IOptions<OnlineStoreOptions> options, ClinicalMetrics metrics, ILogger<OnlineFeatureStore> logger) : BackgroundService
{
    private const int BatchSize = 500;
    private static readonly TimeSpan TimeToLive = TimeSpan.FromHours(48);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly RedisValue[] FieldNames = [.. FeatureCatalogue.Names.Select(n => (RedisValue)n)];

    private readonly string? _connectionString = string.IsNullOrWhiteSpace(options.Value.ConnectionString) ? null : options.Value.ConnectionString;
    private readonly int _maxPending = options.Value.MaxPendingPatients;
    private readonly Lock _lock = new();
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private Dictionary<string, PendingVector> _pending = new(StringComparer.Ordinal);
    private ConnectionMultiplexer? _redis;
    private long _droppedUpdates;

    /// <summary>False when no connection string is configured: <see cref="Publish"/> does nothing.</summary>
    public bool IsEnabled => _connectionString is not null;

    /// <summary>True while connected and the last write succeeded.</summary>
    public bool IsAvailable => _redis?.IsConnected == true && LastError is null;

    /// <summary>The last write failure, cleared by the next successful write.</summary>
    public string? LastError { get; private set; }

    public DateTimeOffset? LastWriteAt { get; private set; }

    /// <summary>Updates not kept because <see cref="OnlineStoreOptions.MaxPendingPatients"/> patients were already waiting.</summary>
    public long DroppedUpdates => Interlocked.Read(ref _droppedUpdates);

    public int PendingPatients
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Records <paramref name="values"/> as the patient's latest vector to write; returns at once.</summary>
    public void Publish(string patientId, DateTimeOffset asOf, ReadOnlySpan<double> values)
    {
        if (!IsEnabled)
        {
            return;
        }

        var vector = new PendingVector(asOf, DateTimeOffset.UtcNow, values.ToArray());
        lock (_lock)
        {
            if (_pending.Count >= _maxPending && !_pending.ContainsKey(patientId))
            {
                Interlocked.Increment(ref _droppedUpdates);
                return;
            }

            _pending[patientId] = vector;
        }

        _doorbell.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_connectionString is null)
        {
            return;
        }

        metrics.ObserveOnlineStoreBacklog(() => PendingPatients);
        var configuration = ConfigurationOptions.Parse(_connectionString);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = 2000;
        configuration.SyncTimeout = configuration.AsyncTimeout = 2000;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(500, 2000);
        // Fail a write at once while disconnected: the vectors wait here, where only the latest per patient is kept.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _doorbell.Reader.ReadAsync(stoppingToken);
                // While Redis is down every attempt fails at once; retrying each second is the catch-up.
                while (!await FlushAsync(_redis.GetDatabase()))
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_redis is not null)
        {
            // Best effort: what is waiting now is written if Redis answers; otherwise the next updates rewrite it.
            await FlushAsync(_redis.GetDatabase());
            await _redis.DisposeAsync();
        }
    }

    /// <summary>Writes everything waiting; false (with the unwritten vectors put back) when a batch failed.</summary>
    private async Task<bool> FlushAsync(IDatabase database)
    {
        Dictionary<string, PendingVector> taken;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return true;
            }

            (taken, _pending) = (_pending, new Dictionary<string, PendingVector>(StringComparer.Ordinal));
        }

        var remaining = taken.ToList();
        for (var start = 0; start < remaining.Count; start += BatchSize)
        {
            var batch = remaining.GetRange(start, Math.Min(BatchSize, remaining.Count - start));
            try
            {
                await WriteBatchAsync(database, batch);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                PutBack(remaining.Skip(start));
                metrics.OnlineStoreWriteFailed();
                if (LastError is null)
                {
                    LogUnavailable(logger, e.Message);
                }

                LastError = e.Message;
                return false;
            }
        }

        if (LastError is not null)
        {
            LogRestored(logger, remaining.Count);
            LastError = null;
        }

        LastWriteAt = DateTimeOffset.UtcNow;
        return true;
    }

    /// <summary>One pipeline: HSET and EXPIRE for each patient, sent together, then awaited together.</summary>
    private static async Task WriteBatchAsync(IDatabase database, List<KeyValuePair<string, PendingVector>> batch)
    {
        var pipeline = database.CreateBatch();
        var writes = new List<Task>(batch.Count * 2);
        foreach (var (patientId, vector) in batch)
        {
            var key = new RedisKey($"patient:{patientId}:features");
            writes.Add(pipeline.HashSetAsync(key, vector.ToHashEntries()));
            writes.Add(pipeline.KeyExpireAsync(key, TimeToLive));
        }

        pipeline.Execute();
        await Task.WhenAll(writes);
    }

    /// <summary>Puts unwritten vectors back unless a newer one for the same patient arrived meanwhile.</summary>
    private void PutBack(IEnumerable<KeyValuePair<string, PendingVector>> unwritten)
    {
        lock (_lock)
        {
            foreach (var (patientId, vector) in unwritten)
            {
                _pending.TryAdd(patientId, vector);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "The online feature store (Redis) is unavailable; vectors wait in memory until it returns: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Information, "The online feature store (Redis) is available again; wrote {Patients} patients' waiting vectors.")]
    private static partial void LogRestored(ILogger logger, int patients);

    private sealed record PendingVector(DateTimeOffset AsOf, DateTimeOffset UpdatedAt, double[] Values)
    {
        /// <summary>Values as invariant round-trip text; a missing value (NaN) is written as "NaN".</summary>
        public HashEntry[] ToHashEntries()
        {
            var entries = new HashEntry[Values.Length + 3];
            for (var i = 0; i < Values.Length; i++)
            {
                entries[i] = new HashEntry(FieldNames[i], Values[i].ToString(CultureInfo.InvariantCulture));
            }

            entries[^3] = new HashEntry("as_of", AsOf.ToString("O", CultureInfo.InvariantCulture));
            entries[^2] = new HashEntry("updated_at", UpdatedAt.ToString("O", CultureInfo.InvariantCulture));
            entries[^1] = new HashEntry("feature_version", FeatureCatalogue.Version);
            return entries;
        }
    }
}
