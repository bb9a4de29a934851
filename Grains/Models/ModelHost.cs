using ClinicalTrials.Grains.Interfaces;
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
public sealed partial class ModelHost(ModelStore store, IGrainFactory grains, ILogger<ModelHost> logger) : BackgroundService
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

    /// <summary>Loads and checks a version without serving it; throws <see cref="ModelRefusedException"/> for a model this platform cannot serve.</summary>
    public async Task<ModelMetadata> CheckAsync(string version)
    {
        var (model, _) = await LoadAsync(version);
        var metadata = model.Metadata;
        model.Dispose();
        return metadata;
    }

    /// <summary>Serves <paramref name="version"/> from now on (loaded and checked first); a no-op when it is already current.</summary>
    public async Task ActivateAsync(string version)
    {
        await _loading.WaitAsync();
        try
        {
            if (CurrentVersion == version)
            {
                return;
            }

            var (model, elapsed) = await LoadAsync(version);
            var previous = Interlocked.Exchange(ref _current, new LoadedModel(model));
            previous?.Retire();
            LogSwapped(logger, previous?.Model.Version ?? "(none)", version, elapsed.TotalMilliseconds);
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
                await ActivateAsync(production.Version);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Keep serving what is loaded; the next poll tries again.
            LogRefreshFailed(logger, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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

    private async Task<(OnnxModel Model, TimeSpan Elapsed)> LoadAsync(string version)
    {
        var started = TimeProvider.System.GetTimestamp();
        var metadata = await store.TryReadMetadataAsync(version)
            ?? throw new ModelRefusedException($"Model {version} has no readable metadata.json in the model store.");
        var model = OnnxModel.Load(metadata, await store.ReadOnnxAsync(version));

        // One warm-up call, so the first real prediction does not pay for ONNX Runtime's lazy initialisation.
        model.Score(new double[metadata.FeatureNames.Count]);
        return (model, TimeProvider.System.GetElapsedTime(started));
    }

    [LoggerMessage(LogLevel.Information, "Production model swapped from {Previous} to {Version} (loaded in {Milliseconds:0.0} ms).")]
    private static partial void LogSwapped(ILogger logger, string previous, string version, double milliseconds);

    [LoggerMessage(LogLevel.Warning, "Could not refresh the production model: {Reason}")]
    private static partial void LogRefreshFailed(ILogger logger, string reason);
}
