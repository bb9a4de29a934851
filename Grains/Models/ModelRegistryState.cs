using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Models;

/// <summary>The registry's persisted state: every version and the order in which versions held production.</summary>
[GenerateSerializer, Alias("model-registry-state")]
public sealed class ModelRegistryState
{
    [Id(0)]
    public List<ModelVersionInfo> Versions { get; set; } = [];

    /// <summary>Earlier production versions, most recent last; a rollback returns to the last one.</summary>
    [Id(1)]
    public List<string> PreviousProduction { get; set; } = [];
}
