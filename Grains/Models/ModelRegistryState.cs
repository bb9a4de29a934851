using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Models;

/// <summary>
/// The registry's persisted state: every version, the order in which versions held production, and every decision
/// about production (so the decisions live in the grain storage of the profile: SQLite embedded, PostgreSQL in a cluster).
/// </summary>
[GenerateSerializer, Alias("model-registry-state")]
public sealed class ModelRegistryState
{
    [Id(0)]
    public List<ModelVersionInfo> Versions { get; set; } = [];

    /// <summary>Earlier production versions, most recent last; a rollback returns to the last one.</summary>
    [Id(1)]
    public List<string> PreviousProduction { get; set; } = [];

    /// <summary>Promotions, rollbacks and retrainings, oldest first.</summary>
    [Id(2)]
    public List<ModelDecision> Decisions { get; set; } = [];
}
