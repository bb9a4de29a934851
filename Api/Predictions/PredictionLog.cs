using System.Threading.Channels;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Predictions;

/// <summary>How the prediction log batches its writes and how much it holds while the database is away.</summary>
public sealed class PredictionLogOptions
{
    public const string Section = "Predictions:Log";

    /// <summary>Most predictions written in one transaction.</summary>
    public int MaxBatch { get; set; } = 2000;

    /// <summary>
    /// Most predictions held in memory waiting for the database. At the bound predictions are refused (503) rather than
    /// answered unlogged; about 1 KiB each with 327 feature values, so the default is some 100 MiB.
    /// </summary>
    public int MaxPending { get; set; } = 100_000;
}

/// <summary>
/// Logs every prediction to the tracking database without slowing the answer: a request only queues its record; one
/// writer drains the queue in batches (one transaction or one COPY per batch). The database is not needed to start: the
/// writer creates the tables when it first reaches it, and while it cannot, predictions wait in memory, up to
/// <see cref="PredictionLogOptions.MaxPending"/>; beyond that <see cref="TryLog"/> refuses them, so every prediction
/// answered is logged once the database returns (a failed write is retried until it succeeds). On graceful shutdown the
/// queue is drained after the web server has stopped taking requests (<see cref="StoppedAsync"/> runs after every
/// hosted service's StopAsync); only when the database is still away at the end of the host's shutdown timeout are the
/// waiting predictions lost, and that is logged as an error with their count.
/// </summary>
public sealed partial class PredictionLog(
    ITrackingStore store, IOptions<PredictionLogOptions> options, ClinicalMetrics metrics, ILogger<PredictionLog> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long the start waits for the database before leaving it to the writer.</summary>
    private static readonly TimeSpan StartAttempt = TimeSpan.FromSeconds(2);

    /// <summary>While the database is away, one warning per this many failed attempts (the first one included).</summary>
    private const int WarnEvery = 60;

    private readonly Channel<PredictionRecord> _queue = Channel.CreateUnbounded<PredictionRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abandon = new();
    private Task _writer = Task.CompletedTask;
    private long _pending;
    private volatile string? _lastError = "not connected yet";
    private bool _tablesCreated;

    /// <summary>Predictions queued and not yet written.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>The most predictions that may wait; see <see cref="PredictionLogOptions.MaxPending"/>.</summary>
    public int MaxPending => options.Value.MaxPending;

    /// <summary>Null while the database takes writes; otherwise why the last attempt failed.</summary>
    public string? LastError => _lastError;

    public string Description => store.Description;

    /// <summary>
    /// Queues predictions, all or none; never blocks. False when they would take the queue beyond
    /// <see cref="PredictionLogOptions.MaxPending"/> (the database has been away for long) or the log is closed: the
    /// caller must not answer them.
    /// </summary>
    public bool TryLog(IReadOnlyList<PredictionRecord> predictions)
    {
        if (Interlocked.Add(ref _pending, predictions.Count) > options.Value.MaxPending)
        {
            Interlocked.Add(ref _pending, -predictions.Count);
            return false;
        }

        foreach (var prediction in predictions)
        {
            if (!_queue.Writer.TryWrite(prediction))
            {
                // Only after shutdown has begun; the server has stopped answering by then.
                Interlocked.Decrement(ref _pending);
                LogAfterShutdown(logger, prediction.PatientId);
            }
        }

        return true;
    }

    /// <summary>
    /// Tries once, briefly, to create the tables, so that they exist before the first request whenever the database is
    /// there; then starts the writer, which keeps trying. The silo starts whether or not the database answers.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarted(logger, store.Description);
        metrics.ObservePredictionLogQueue(() => Pending);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(StartAttempt);
        try
        {
            await store.InitializeAsync(attempt.Token);
            _tablesCreated = true;
            _lastError = null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            _lastError = e.Message;
            LogWriteFailed(logger, "create the tables at start", 1, 0, e.Message);
        }

        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Drains the queue: by now the server has stopped, so nothing new arrives. Gives up when the host's shutdown time is
    /// up. It may run twice (WebApplicationFactory stops its host twice), so the second run must find everything usable.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (Pending == 0)
        {
            // Nothing to write: do not wait for a database that is away only to create its tables.
            await _abandon.CancelAsync();
        }

        try
        {
            await _writer.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await _abandon.CancelAsync();
            await _writer;
        }

        await store.DisposeAsync();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WriteLoopAsync()
    {
        try
        {
            if (!_tablesCreated)
            {
                await RetryAsync("create the tables", () => store.InitializeAsync(_abandon.Token));
            }

            var batch = new List<PredictionRecord>(options.Value.MaxBatch);
            while (await _queue.Reader.WaitToReadAsync())
            {
                while (batch.Count < options.Value.MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                await RetryAsync($"write {batch.Count} predictions", () => store.WritePredictionsAsync(batch, _abandon.Token));
                Interlocked.Add(ref _pending, -batch.Count);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
        {
            if (Pending > 0)
            {
                LogLostAtShutdown(logger, Pending, _lastError ?? "");
            }
        }
    }

    /// <summary>Runs <paramref name="write"/> until it succeeds (the database away, restarting or busy): nothing is given up, except at shutdown.</summary>
    private async Task RetryAsync(string what, Func<Task> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write();
                if (_lastError is not null)
                {
                    _lastError = null;
                    LogAvailable(logger, store.Description, Pending);
                }

                return;
            }
            catch (Exception e) when (!_abandon.IsCancellationRequested)
            {
                _lastError = e.Message;
                if (attempt % WarnEvery == 1)
                {
                    LogWriteFailed(logger, what, attempt, Pending, e.Message);
                }

                await Task.Delay(RetryDelay, _abandon.Token);
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Prediction log: {Store}.")]
    private static partial void LogStarted(ILogger logger, string store);

    [LoggerMessage(LogLevel.Information, "Prediction log: {Store} takes writes; {Pending} predictions waiting are being written.")]
    private static partial void LogAvailable(ILogger logger, string store, long pending);

    [LoggerMessage(LogLevel.Warning, "Prediction log: could not {What} (attempt {Attempt}; {Pending} predictions waiting); retrying: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string what, int attempt, long pending, string reason);

    [LoggerMessage(LogLevel.Error, "Prediction log: the database was still unavailable when shutdown time ran out; {Count} answered predictions were not logged: {Reason}")]
    private static partial void LogLostAtShutdown(ILogger logger, long count, string reason);

    [LoggerMessage(LogLevel.Error, "A prediction for patient {PatientId} arrived after the log was closed and was not logged.")]
    private static partial void LogAfterShutdown(ILogger logger, string patientId);
}
