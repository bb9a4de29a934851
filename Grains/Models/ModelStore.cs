using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Models.Metadata;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Models;

/// <summary>
/// The model artifacts of this platform: <c>models/{version}/</c> under the data directory (model.onnx, metadata.json,
/// plots, report). Shared by the registry (which versions exist), the model host (loading) and the upload endpoint.
/// </summary>
public sealed class ModelStore(IOptions<JournalOptions> options)
{
    private readonly string _root = Path.Combine(options.Value.DataDirectory, "models");

    public string DataDirectory => options.Value.DataDirectory;

    /// <summary>Versions whose folder has a metadata.json (a model is complete once that file exists).</summary>
    public IReadOnlyList<string> ListVersions() => Directory.Exists(_root)
        ? [.. Directory.EnumerateDirectories(_root).Select(Path.GetFileName).OfType<string>()
            .Where(v => ModelArtifacts.IsValidVersion(v) && File.Exists(Path.Combine(_root, v, ModelArtifacts.Metadata))).Order(StringComparer.Ordinal)]
        : [];

    /// <summary>The version's metadata, or null when it has none or it cannot be read.</summary>
    public async Task<ModelMetadata?> TryReadMetadataAsync(string version)
    {
        var path = Path.Combine(ModelArtifacts.Folder(DataDirectory, version), ModelArtifacts.Metadata);
        try
        {
            return File.Exists(path) ? ModelJson.ReadMetadata(await File.ReadAllBytesAsync(path)) : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or IOException)
        {
            return null;
        }
    }

    public Task<byte[]> ReadOnnxAsync(string version) =>
        File.ReadAllBytesAsync(Path.Combine(ModelArtifacts.Folder(DataDirectory, version), ModelArtifacts.Onnx));

    /// <summary>Writes uploaded artifacts; metadata.json last (atomically), so no reader sees a half-written model.</summary>
    public async Task WriteAsync(string version, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        var folder = ModelArtifacts.Folder(DataDirectory, version);
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in files.Where(f => f.Key != ModelArtifacts.Metadata))
        {
            await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes, cancellationToken);
        }

        var metadata = Path.Combine(folder, ModelArtifacts.Metadata);
        await File.WriteAllBytesAsync(metadata + ".tmp", files[ModelArtifacts.Metadata], cancellationToken);
        File.Move(metadata + ".tmp", metadata, overwrite: true);
    }
}
