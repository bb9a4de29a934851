using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Grains.Models;

/// <summary>
/// This silo's production model, loaded once into an ONNX Runtime session and held in memory for every scoring call.
/// A new version is loaded and checked completely before one reference swap makes it current; calls already running
/// finish on the old session (see <see cref="LoadedModel"/>). The silo where a promotion runs swaps at once; every
/// other silo asks the registry every <see cref="PollInterval"/> and swaps when production has changed.
/// </summary>
public sealed partial class ModelHost(ModelStore store, IGrainFactory grains, ClinicalMetrics metrics, ILogger<ModelHost> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _loading = new(1, 1);
    private LoadedModel? _current;
    private long _lastCheck;

    /// <summary>The version being served here, or null.</summary>
    public string? CurrentVersion => Volatile.Read(ref _current)?.Model.Version;

    /// <summary>
    /// Takes a lease on the current model (null when none is loaded); release it with <see cref="Release"/>. When none is
    /// loaded yet (a silo just started) it asks the registry once, at most every half second.
    /// </summary>
    internal async ValueTask<LoadedModel?> AcquireAsync()
    {
        if (Volatile.Read(ref _current) is null && Environment.TickCount64 - Interlocked.Read(ref _lastCheck) > 500)
        {
            await RefreshAsync();
        }

        while (Volatile.Read(ref _current) is { } model)
        {
            if (model.TryAcquire())
            {
                return model;
            }
        }

        return null;
    }

    internal static void Release(LoadedModel model) => model.Release();

    /// <summary>
    /// Serves <paramref name="version"/> from now on (loaded and checked first, including its recorded content hash);
    /// a no-op when it is already current.
    /// </summary>
    /// <exception cref="ModelRefusedException">The model cannot be served here; the current one stays.</exception>
    public async Task ActivateAsync(ModelVersionInfo version)
    {
        await _loading.WaitAsync();
        try
        {
            if (CurrentVersion == version.Version)
            {
                return;
            }

            var (model, elapsed) = await LoadAsync(version);
            var previous = Interlocked.Exchange(ref _current, new LoadedModel(model));
            previous?.Retire();
            LogSwapped(logger, previous?.Model.Version ?? "(none)", version.Version, elapsed.TotalMilliseconds);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Asks the registry which version is in production and serves it.</summary>
    public async Task RefreshAsync()
    {
        Interlocked.Exchange(ref _lastCheck, Environment.TickCount64);
        try
        {
            var production = await grains.GetGrain<IModelRegistryGrain>(ModelArtifacts.ModelName).GetProductionAsync();
            if (production is not null && production.Version != CurrentVersion)
            {
                await ActivateAsync(production);
            }
        }
        catch (Exception e)
        {
            // Keep serving what is loaded; the next poll tries again. That includes an OperationCanceledException: this
            // call takes no token, so it is Orleans cancelling the registry call (a grain directory range moving while
            // another silo dies), not this silo stopping. Let out of ExecuteAsync it stopped the whole silo
            // (BackgroundServiceExceptionBehavior.StopHost), which ClusterScheduleTests saw as a silo refusing
            // connections just after the other was killed.
            LogRefreshFailed(logger, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObserveServedModel(() => CurrentVersion);
        using var timer = new PeriodicTimer(PollInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RefreshAsync();
        }
    }

    public override void Dispose()
    {
        Interlocked.Exchange(ref _current, null)?.Retire();
        _loading.Dispose();
        base.Dispose();
    }

    private async Task<(OnnxModel Model, TimeSpan Elapsed)> LoadAsync(ModelVersionInfo version)
    {
        var started = TimeProvider.System.GetTimestamp();
        ModelMetadata metadata;
        byte[] onnx;
        try
        {
            metadata = await store.ReadMetadataAsync(version.Version);
            onnx = await store.ReadOnnxAsync(version.Version);
        }
        catch (InvalidDataException e)
        {
            throw Refuse(version.Version, e.Message);
        }

        // The registry recorded the hash of the file it registered: any other file under that version is not that model,
        // and serving it would credit its scores to the wrong model in the prediction log.
        var hash = ModelArtifacts.OnnxHash(onnx);
        if (hash != version.OnnxSha256)
        {
            throw Refuse(version.Version,
                $"Model {version.Version}: {ModelArtifacts.Onnx} has SHA-256 {hash}, but {version.OnnxSha256 ?? "(none)"} was recorded at registration; the file was changed after registration and will not be served.");
        }

        OnnxModel model;
        try
        {
            model = OnnxModel.Load(metadata, onnx);
        }
        catch (ModelRefusedException e)
        {
            throw Refuse(version.Version, e.Message);
        }

        // One warm-up call, so the first real prediction does not pay for ONNX Runtime's lazy initialisation.
        model.Score(new double[metadata.FeatureNames.Count]);
        return (model, TimeProvider.System.GetElapsedTime(started));
    }

    private ModelRefusedException Refuse(string version, string reason)
    {
        LogRefused(logger, version, reason);
        return new ModelRefusedException(reason);
    }

    [LoggerMessage(LogLevel.Information, "Production model swapped from {Previous} to {Version} (loaded in {Milliseconds:0.0} ms).")]
    private static partial void LogSwapped(ILogger logger, string previous, string version, double milliseconds);

    [LoggerMessage(LogLevel.Warning, "Model {Version} refused at load: {Reason}")]
    private static partial void LogRefused(ILogger logger, string version, string reason);

    [LoggerMessage(LogLevel.Warning, "Could not refresh the production model: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
