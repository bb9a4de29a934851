using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Trainer.Registration;

/// <summary>Hands a finished model (its artifact folder) to the model registry as a <c>staging</c> version.</summary>
public interface IModelRegistrar
{
    /// <summary>Where the model goes, for the run record.</summary>
    string Description { get; }

    Task RegisterAsync(string version, string folder, CancellationToken cancellationToken);
}

/// <summary>
/// Registration through the registry's storage: the artifacts are stored under <c>models/{version}/</c> of the lake
/// storage (the data directory, or the bucket), metadata.json last, and the registry adopts every version there with
/// a readable metadata.json as staging (at activation, and whenever versions are listed or one is promoted).
/// </summary>
public sealed class StorageRegistrar(ILakeStorage storage) : IModelRegistrar
{
    public string Description => $"registry storage {storage.Description}";

    public async Task RegisterAsync(string version, string folder, CancellationToken cancellationToken)
    {
        var files = Directory.GetFiles(folder).OrderBy(f => Path.GetFileName(f) == Models.Metadata.ModelArtifacts.Metadata).ThenBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
        {
            await storage.CopyFromAsync($"{LakeLayout.Models}{version}/{Path.GetFileName(file)}", file, cancellationToken);
        }
    }
}
