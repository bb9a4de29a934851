using System.Collections.Immutable;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// The model registry of one prediction task (keyed by model name, e.g. <c>adverse-event-24h</c>): which versions exist,
/// which one is in production, and the history that a rollback returns to. A version's files live in the model store
/// (<c>models/{version}/</c>); a folder that appears there with a complete <c>metadata.json</c> and a <c>model.onnx</c>
/// is adopted as <c>staging</c> (any other folder is skipped with a logged warning; it never stops the registry). Promotion loads the model first, so a model the platform cannot serve (other features, a broken
/// graph) never reaches production.
/// </summary>
[Alias("model-registry")]
public interface IModelRegistryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers a version whose artifacts are in the model store, as staging, recording the hash of its model.onnx.
    /// <paramref name="onnxSha256"/> is the hash of the model.onnx the caller stored: when the store holds another one, or
    /// the version is already registered with another one, the answer is <see cref="RegistryStatus.Conflict"/> (versions
    /// are immutable). Registering the same content again changes nothing.
    /// </summary>
    [Alias("register")]
    Task<RegistryResult> RegisterAsync(string version, string onnxSha256);

    /// <summary>Every version, newest first, after adopting any new folder in the model store.</summary>
    [Alias("list")]
    Task<ImmutableArray<ModelVersionInfo>> ListAsync();

    /// <summary>
    /// Makes <paramref name="version"/> the production model; the previous one becomes <c>archived</c>. The promotion, or
    /// the refusal of a model that cannot be served, is recorded as a decision of <paramref name="trigger"/> with
    /// <paramref name="reason"/> and <paramref name="evidence"/> (a retraining's comparison; null for a promotion by hand).
    /// </summary>
    [Alias("promote")]
    Task<RegistryResult> PromoteAsync(string version, ModelTrigger trigger, string? reason, DecisionEvidence? evidence);

    /// <summary>
    /// Returns production to the version that held it before the current one; the current one goes back to staging.
    /// Recorded as a decision of <paramref name="trigger"/>.
    /// </summary>
    [Alias("rollback")]
    Task<RegistryResult> RollbackAsync(ModelTrigger trigger);

    /// <summary>Records a decision that changed nothing in the registry (a challenger kept in staging, a failed retraining).</summary>
    [Alias("record-decision")]
    Task RecordDecisionAsync(ModelDecision decision);

    /// <summary>The latest <paramref name="limit"/> decisions, newest first.</summary>
    [Alias("decisions")]
    Task<ImmutableArray<ModelDecision>> ListDecisionsAsync(int limit);

    /// <summary>The production version, or null when none was promoted.</summary>
    [Alias("production")]
    Task<ModelVersionInfo?> GetProductionAsync();
}

/// <summary>Stage names of a model version.</summary>
public static class ModelStages
{
    public const string Staging = "staging";
    public const string Production = "production";

    /// <summary>A former production version, replaced by a promotion; it can still be promoted again.</summary>
    public const string Archived = "archived";
}

/// <summary>One registered model version.</summary>
/// <param name="Version">Unique version (the artifact folder name).</param>
/// <param name="Stage"><see cref="ModelStages"/>.</param>
/// <param name="CreatedAt">When the model was trained.</param>
/// <param name="RegisteredAt">When the registry learnt of it.</param>
/// <param name="FeatureVersion">The feature version it was trained on.</param>
/// <param name="Metrics">Headline metrics, e.g. <c>test.auroc</c>.</param>
/// <param name="PromotedAt">When it last became production.</param>
/// <param name="OnnxSha256">
/// SHA-256 of its <c>model.onnx</c>, recorded at registration; the model host refuses to load a file without it. Null
/// only in a registry written before hashes were recorded, until the registry next activates and records it.
/// </param>
[GenerateSerializer, Immutable, Alias("model-version")]
public sealed record ModelVersionInfo(
    [property: Id(0)] string Version,
    [property: Id(1)] string Stage,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset RegisteredAt,
    [property: Id(4)] string FeatureVersion,
    [property: Id(5)] ImmutableSortedDictionary<string, double> Metrics,
    [property: Id(6)] DateTimeOffset? PromotedAt,
    [property: Id(7)] string? OnnxSha256);

/// <summary>How a registry operation ended.</summary>
public enum RegistryStatus
{
    Ok,

    /// <summary>No such version in the registry or the model store.</summary>
    NotFound,

    /// <summary>The platform will not serve the model (feature mismatch, unreadable ONNX); the message says why.</summary>
    Refused,

    /// <summary>The operation does not apply (e.g. a rollback with no earlier production version).</summary>
    Conflict,
}

/// <summary>
/// The outcome of a registry operation, when it succeeded the version it concerned, and the decision it recorded
/// (promotion and rollback record one when they change production or refuse a model).
/// </summary>
[GenerateSerializer, Immutable, Alias("registry-result")]
public sealed record RegistryResult(
    [property: Id(0)] RegistryStatus Status,
    [property: Id(1)] string? Message,
    [property: Id(2)] ModelVersionInfo? Model,
    [property: Id(3)] ModelDecision? Decision = null);
