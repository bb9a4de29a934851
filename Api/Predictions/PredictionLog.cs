using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Predictions;

/// <summary>A prediction waiting to be written; its features are serialised by the writer, off the request path.</summary>
public sealed record PendingPrediction(
    Guid Id, string PatientId, DateTimeOffset Timestamp, double Score, string RiskLevel, string ModelVersion, double LatencyMs,
    string? FeatureVersion, DateTimeOffset? FeaturesAsOf, ImmutableArray<double> Features);

/// <summary>How the prediction log batches its writes.</summary>
public sealed class PredictionLogOptions
{
    public const string Section = "Predictions:Log";

    /// <summary>Most predictions written in one transaction.</summary>
    public int MaxBatch { get; set; } = 2000;
}

/// <summary>
/// Logs every prediction to the tracking database without slowing the answer: a request only queues its record; one
/// writer drains the queue in batches (one transaction or one COPY per batch). The queue is unbounded, so nothing is
/// dropped; a failed write is retried. On graceful shutdown the queue is drained after the web server has stopped
/// taking requests (<see cref="StoppedAsync"/> runs after every hosted service's StopAsync), so no logged answer is lost.
/// </summary>
public sealed partial class PredictionLog(ITrackingStore store, IOptions<PredictionLogOptions> options, ILogger<PredictionLog> logger) : IHostedLifecycleService
{
    private const int MaxAttempts = 120;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<PendingPrediction> _queue = Channel.CreateUnbounded<PendingPrediction>(new UnboundedChannelOptions { SingleReader = true });
    private Task _writer = Task.CompletedTask;
    private long _pending;

    /// <summary>Predictions queued and not yet written.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public string Description => store.Description;

    /// <summary>Queues one prediction. Never blocks.</summary>
    public void Log(PendingPrediction prediction)
    {
        Interlocked.Increment(ref _pending);
        if (!_queue.Writer.TryWrite(prediction))
        {
            Interlocked.Decrement(ref _pending);
            LogAfterShutdown(logger, prediction.PatientId);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        LogStarted(logger, store.Description);
        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Drains the queue: by now the server has stopped, so nothing new arrives.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _writer;
        await store.DisposeAsync();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingPrediction>(options.Value.MaxBatch);
        var buffer = new ArrayBufferWriter<byte>(8192);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < options.Value.MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            var records = batch.Select(p => new PredictionRecord(p.Id, p.PatientId, p.Timestamp, p.Score, p.RiskLevel, p.ModelVersion,
                p.LatencyMs, FeaturesJson(buffer, p))).ToList();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await store.WritePredictionsAsync(records);
                    break;
                }
                catch (Exception e)
                {
                    // The database is away (PostgreSQL restarting, SQLite busy): keep the batch and try again, for a while.
                    LogWriteFailed(logger, records.Count, attempt, e.Message);
                    if (attempt == MaxAttempts)
                    {
                        LogDropped(logger, records.Count);
                        break;
                    }

                    await Task.Delay(RetryDelay);
                }
            }

            Interlocked.Add(ref _pending, -batch.Count);
            batch.Clear();
        }
    }

    /// <summary><c>{"feature_version", "as_of", "values": [...]}</c>, values in the model's feature order, null for NaN.</summary>
    private static string FeaturesJson(ArrayBufferWriter<byte> buffer, PendingPrediction prediction)
    {
        buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("feature_version", prediction.FeatureVersion);
            if (prediction.FeaturesAsOf is { } asOf)
            {
                json.WriteString("as_of", asOf);
            }

            json.WriteStartArray("values");
            foreach (var value in prediction.Features)
            {
                if (double.IsFinite(value))
                {
                    json.WriteNumberValue(value);
                }
                else
                {
                    json.WriteNullValue();
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [LoggerMessage(LogLevel.Information, "Prediction log: {Store}.")]
    private static partial void LogStarted(ILogger logger, string store);

    [LoggerMessage(LogLevel.Warning, "Writing {Count} predictions failed (attempt {Attempt}); retrying: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, int count, int attempt, string reason);

    [LoggerMessage(LogLevel.Error, "{Count} predictions could not be logged in two minutes of retries and were dropped.")]
    private static partial void LogDropped(ILogger logger, int count);

    [LoggerMessage(LogLevel.Error, "A prediction for patient {PatientId} arrived after the log was closed and was not logged.")]
    private static partial void LogAfterShutdown(ILogger logger, string patientId);
}
