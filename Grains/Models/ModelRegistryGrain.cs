using System.Collections.Immutable;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Storage;
using ClinicalTrials.Lake.Storage;
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
    /// <summary>
    /// Versions found in the store that could not be registered (or hashed), warned about once per activation. They are
    /// read again at every look at the store: a folder seen half-written, or repaired, is registered once it is complete.
    /// </summary>
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await AdoptNewVersionsAsync();
        }
        catch (LakeStorageUnavailableException e)
        {
            // The registry still answers what it knows (production, rollback); listing retries the store.
            LogStoreUnavailable(logger, e.Message);
        }
    }

    public async Task<RegistryResult> RegisterAsync(string version, string onnxSha256)
    {
        if (Find(version) is { } known)
        {
            return known.OnnxSha256 == onnxSha256
                ? new RegistryResult(RegistryStatus.Ok, null, known)
                : new RegistryResult(RegistryStatus.Conflict, ModelStore.AlreadyExists(version), null);
        }

        if (!ModelArtifacts.IsValidVersion(version))
        {
            return new RegistryResult(RegistryStatus.NotFound, $"'{version}' is not a model version.", null);
        }

        ModelVersionInfo info;
        try
        {
            info = await ReadAsync(version);
        }
        catch (InvalidDataException e)
        {
            return new RegistryResult(RegistryStatus.NotFound, e.Message, null);
        }

        if (info.OnnxSha256 != onnxSha256)
        {
            return new RegistryResult(RegistryStatus.Conflict,
                $"The {ModelArtifacts.Onnx} stored for model {version} is not the one uploaded (another upload of the same version?); it is not registered.", null);
        }

        Add(info);
        await state.WriteStateAsync();
        return new RegistryResult(RegistryStatus.Ok, null, info);
    }

    public async Task<ImmutableArray<ModelVersionInfo>> ListAsync()
    {
        await AdoptNewVersionsAsync();
        return [.. state.State.Versions.OrderByDescending(v => v.CreatedAt).ThenByDescending(v => v.Version, StringComparer.Ordinal)];
    }

    public async Task<RegistryResult> PromoteAsync(string version, ModelTrigger trigger, string? reason, DecisionEvidence? evidence)
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

        var champion = Production()?.Version;
        ModelDecision Decision(string outcome, string? why) =>
            new(time.GetUtcNow(), ModelDecision.Promote, trigger, version, champion, outcome, why, evidence);

        // Load it here first: a model this platform cannot serve must never become production.
        try
        {
            await host.ActivateAsync(target);
        }
        catch (ModelRefusedException e)
        {
            var refused = await RecordAsync(Decision(DecisionOutcomes.Refused, e.Message));
            return new RegistryResult(RegistryStatus.Refused, e.Message, null, refused);
        }

        if (Production() is { } current)
        {
            Replace(current with { Stage = ModelStages.Archived });
            state.State.PreviousProduction.Add(current.Version);
        }

        var promoted = Replace(target with { Stage = ModelStages.Production, PromotedAt = time.GetUtcNow() });
        var decision = await RecordAsync(Decision(DecisionOutcomes.Promoted, reason));
        LogPromoted(logger, version, trigger.Kind, trigger.By);
        return new RegistryResult(RegistryStatus.Ok, null, promoted, decision);
    }

    public async Task<RegistryResult> RollbackAsync(ModelTrigger trigger)
    {
        if (Production() is not { } current)
        {
            return new RegistryResult(RegistryStatus.Conflict, "No model is in production; there is nothing to roll back.", null);
        }

        if (state.State.PreviousProduction.Count == 0 || Find(state.State.PreviousProduction[^1]) is not { } previous)
        {
            return new RegistryResult(RegistryStatus.Conflict, $"Model {current.Version} is the first production model; there is no earlier one to return to.", null);
        }

        ModelDecision Decision(string outcome, string? why) =>
            new(time.GetUtcNow(), ModelDecision.Rollback, trigger, previous.Version, current.Version, outcome, why, null);
        try
        {
            await host.ActivateAsync(previous);
        }
        catch (ModelRefusedException e)
        {
            var message = $"Cannot return to {previous.Version}: {e.Message}";
            var refused = await RecordAsync(Decision(DecisionOutcomes.Refused, message));
            return new RegistryResult(RegistryStatus.Refused, message, null, refused);
        }

        state.State.PreviousProduction.RemoveAt(state.State.PreviousProduction.Count - 1);
        Replace(current with { Stage = ModelStages.Staging });
        var restored = Replace(previous with { Stage = ModelStages.Production, PromotedAt = time.GetUtcNow() });
        var decision = await RecordAsync(Decision(DecisionOutcomes.RolledBack, null));
        LogRolledBack(logger, current.Version, previous.Version, trigger.Kind, trigger.By);
        return new RegistryResult(RegistryStatus.Ok, null, restored, decision);
    }

    public Task RecordDecisionAsync(ModelDecision decision) => RecordAsync(decision);

    public Task<ImmutableArray<ModelDecision>> ListDecisionsAsync(int limit) =>
        Task.FromResult<ImmutableArray<ModelDecision>>([.. Enumerable.Reverse(state.State.Decisions).Take(limit)]);

    public Task<ModelVersionInfo?> GetProductionAsync() => Task.FromResult(Production());

    /// <summary>
    /// Registers every complete folder in the model store the registry does not know yet (the trainer's direct path), and
    /// records the content hash of versions registered before hashes were. A folder that cannot be registered is skipped
    /// (with a warning naming the version and the reason, the first time) and tried again next time: one bad folder must
    /// not take the registry down, nor keep a version out once its folder is complete.
    /// </summary>
    private async Task AdoptNewVersionsAsync()
    {
        var changed = false;
        foreach (var version in (await store.ListVersionsAsync()).Where(v => Find(v) is null))
        {
            try
            {
                Add(await ReadAsync(version));
                changed = true;
            }
            catch (InvalidDataException e) when (_warned.Add(version))
            {
                LogSkipped(logger, version, e.Message);
            }
            catch (InvalidDataException)
            {
                // Still incomplete: warned about already.
            }
        }

        foreach (var legacy in state.State.Versions.Where(v => v.OnnxSha256 is null).ToList())
        {
            try
            {
                Replace(legacy with { OnnxSha256 = ModelArtifacts.OnnxHash(await store.ReadOnnxAsync(legacy.Version)) });
                changed = true;
            }
            catch (InvalidDataException e) when (_warned.Add(legacy.Version))
            {
                // Without a hash the model host refuses to load it, which is right for a model whose file is gone.
                LogNoHash(logger, legacy.Version, e.Message);
            }
            catch (InvalidDataException)
            {
                // Still without its file: warned about already.
            }
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }
    }

    /// <summary>A stored version as the registry would record it; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    private async Task<ModelVersionInfo> ReadAsync(string version)
    {
        var metadata = await store.ReadMetadataAsync(version);
        var hash = ModelArtifacts.OnnxHash(await store.ReadOnnxAsync(version));
        var metrics = metadata.Metrics.SelectMany(split => new[]
        {
            ($"{split.Key}.auroc", split.Value.Auroc), ($"{split.Key}.auprc", split.Value.Auprc), ($"{split.Key}.brier", split.Value.Brier),
        }).ToImmutableSortedDictionary(m => m.Item1, m => m.Item2, StringComparer.Ordinal);
        return new ModelVersionInfo(version, ModelStages.Staging, metadata.CreatedAt, time.GetUtcNow(), metadata.FeatureVersion, metrics, null, hash);
    }

    /// <summary>Appends the decision and writes the state (with whatever change to the versions came with it) in one write.</summary>
    private async Task<ModelDecision> RecordAsync(ModelDecision decision)
    {
        state.State.Decisions.Add(decision);
        await state.WriteStateAsync();
        return decision;
    }

    private void Add(ModelVersionInfo info)
    {
        state.State.Versions.Add(info);
        LogRegistered(logger, info.Version, info.OnnxSha256!);
    }

    private ModelVersionInfo? Find(string version) => state.State.Versions.Find(v => v.Version == version);

    private ModelVersionInfo? Production() => state.State.Versions.Find(v => v.Stage == ModelStages.Production);

    private ModelVersionInfo Replace(ModelVersionInfo updated)
    {
        var index = state.State.Versions.FindIndex(v => v.Version == updated.Version);
        state.State.Versions[index] = updated;
        return updated;
    }

    [LoggerMessage(LogLevel.Information, "Model {Version} registered as staging (model.onnx SHA-256 {Hash}).")]
    private static partial void LogRegistered(ILogger logger, string version, string hash);

    [LoggerMessage(LogLevel.Warning, "Model {Version} in the model store is skipped and not registered: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string version, string reason);

    [LoggerMessage(LogLevel.Warning, "Model {Version} was registered before hashes were recorded and its hash cannot be taken now, so it will not be loaded: {Reason}")]
    private static partial void LogNoHash(ILogger logger, string version, string reason);

    [LoggerMessage(LogLevel.Warning, "The model store could not be read at activation; the registry serves what it recorded: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Information, "Model {Version} promoted to production ({TriggerKind}: {TriggeredBy}).")]
    private static partial void LogPromoted(ILogger logger, string version, string triggerKind, string triggeredBy);

    [LoggerMessage(LogLevel.Information, "Production rolled back from {From} to {To} ({TriggerKind}: {TriggeredBy}).")]
    private static partial void LogRolledBack(ILogger logger, string from, string to, string triggerKind, string triggeredBy);
}
