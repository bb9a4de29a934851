using System.Collections.Immutable;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Grains.Models;

/// <inheritdoc cref="IModelRegistryGrain"/>
public sealed partial class ModelRegistryGrain(
    [PersistentState("model-registry", StorageNames.Clinical)] IPersistentState<ModelRegistryState> state,
    ModelStore store,
    ModelHost host,
    TimeProvider time,
    ILogger<ModelRegistryGrain> logger) : Grain, IModelRegistryGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) => AdoptNewVersionsAsync();

    public async Task<RegistryResult> RegisterAsync(string version)
    {
        if (Find(version) is { } known)
        {
            return new RegistryResult(RegistryStatus.Ok, null, known);
        }

        if (!ModelArtifacts.IsValidVersion(version) || await store.TryReadMetadataAsync(version) is not { } metadata)
        {
            return new RegistryResult(RegistryStatus.NotFound, $"Model {version} has no readable metadata.json in the model store.", null);
        }

        var info = Add(metadata);
        await state.WriteStateAsync();
        return new RegistryResult(RegistryStatus.Ok, null, info);
    }

    public async Task<ImmutableArray<ModelVersionInfo>> ListAsync()
    {
        await AdoptNewVersionsAsync();
        return [.. state.State.Versions.OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.Version, StringComparer.Ordinal)];
    }

    public async Task<RegistryResult> PromoteAsync(string version)
    {
        await AdoptNewVersionsAsync();
        if (Find(version) is not { } target)
        {
            return new RegistryResult(RegistryStatus.NotFound, $"No model version {version} is registered.", null);
        }

        if (target.Stage == ModelStages.Production)
        {
            return new RegistryResult(RegistryStatus.Ok, $"Model {version} is already in production.", target);
        }

        // Load it here first: a model this platform cannot serve must never become production.
        try
        {
            await host.ActivateAsync(version);
        }
        catch (ModelRefusedException e)
        {
            return new RegistryResult(RegistryStatus.Refused, e.Message, null);
        }

        if (Production() is { } current)
        {
            Replace(current with { Stage = ModelStages.Archived });
            state.State.PreviousProduction.Add(current.Version);
        }

        var promoted = Replace(target with { Stage = ModelStages.Production, PromotedAt = time.GetUtcNow() });
        await state.WriteStateAsync();
        LogPromoted(logger, version);
        return new RegistryResult(RegistryStatus.Ok, null, promoted);
    }

    public async Task<RegistryResult> RollbackAsync()
    {
        if (Production() is not { } current)
        {
            return new RegistryResult(RegistryStatus.Conflict, "No model is in production; there is nothing to roll back.", null);
        }

        if (state.State.PreviousProduction.Count == 0 || Find(state.State.PreviousProduction[^1]) is not { } previous)
        {
            return new RegistryResult(RegistryStatus.Conflict, $"Model {current.Version} is the first production model; there is no earlier one to return to.", null);
        }

        try
        {
            await host.ActivateAsync(previous.Version);
        }
        catch (ModelRefusedException e)
        {
            return new RegistryResult(RegistryStatus.Refused, $"Cannot return to {previous.Version}: {e.Message}", null);
        }

        state.State.PreviousProduction.RemoveAt(state.State.PreviousProduction.Count - 1);
        Replace(current with { Stage = ModelStages.Staging });
        var restored = Replace(previous with { Stage = ModelStages.Production, PromotedAt = time.GetUtcNow() });
        await state.WriteStateAsync();
        LogRolledBack(logger, current.Version, previous.Version);
        return new RegistryResult(RegistryStatus.Ok, null, restored);
    }

    public Task<ModelVersionInfo?> GetProductionAsync() => Task.FromResult(Production());

    /// <summary>Registers every complete folder in the model store the registry does not know yet (the trainer's direct path).</summary>
    private async Task AdoptNewVersionsAsync()
    {
        var added = false;
        foreach (var version in (await store.ListVersionsAsync()).Where(v => Find(v) is null))
        {
            if (await store.TryReadMetadataAsync(version) is { } metadata && metadata.Version == version)
            {
                Add(metadata);
                added = true;
            }
        }

        if (added)
        {
            await state.WriteStateAsync();
        }
    }

    private ModelVersionInfo Add(ModelMetadata metadata)
    {
        var metrics = metadata.Metrics.SelectMany(split => new[]
        {
            ($"{split.Key}.auroc", split.Value.Auroc), ($"{split.Key}.auprc", split.Value.Auprc), ($"{split.Key}.brier", split.Value.Brier),
        }).ToImmutableSortedDictionary(m => m.Item1, m => m.Item2, StringComparer.Ordinal);
        var info = new ModelVersionInfo(metadata.Version, ModelStages.Staging, metadata.CreatedAt, time.GetUtcNow(), metadata.FeatureVersion, metrics, null);
        state.State.Versions.Add(info);
        LogRegistered(logger, metadata.Version);
        return info;
    }

    private ModelVersionInfo? Find(string version) => state.State.Versions.Find(v => v.Version == version);

    private ModelVersionInfo? Production() => state.State.Versions.Find(v => v.Stage == ModelStages.Production);

    private ModelVersionInfo Replace(ModelVersionInfo updated)
    {
        var index = state.State.Versions.FindIndex(v => v.Version == updated.Version);
        state.State.Versions[index] = updated;
        return updated;
    }

    [LoggerMessage(LogLevel.Information, "Model {Version} registered as staging.")]
    private static partial void LogRegistered(ILogger logger, string version);

    [LoggerMessage(LogLevel.Information, "Model {Version} promoted to production.")]
    private static partial void LogPromoted(ILogger logger, string version);

    [LoggerMessage(LogLevel.Information, "Production rolled back from {From} to {To}.")]
    private static partial void LogRolledBack(ILogger logger, string from, string to);
}
