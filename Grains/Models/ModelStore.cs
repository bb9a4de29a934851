using ClinicalTrials.Lake;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Grains.Models;

/// <summary>
/// The model artifacts of this platform: <c>models/{version}/</c> (model.onnx, metadata.json, plots, report) in the lake
/// storage, so the data directory when embedded and the bucket when <c>Storage:Provider</c> is S3. Shared by the registry
/// (which versions exist), the model host (loading) and the upload endpoint.
/// </summary>
public sealed class ModelStore(LakeContext lake)
{
    /// <summary>Versions whose folder has a metadata.json (a model is complete once that object exists).</summary>
    public async Task<IReadOnlyList<string>> ListVersionsAsync()
    {
        var versions = new List<string>();
        await foreach (var item in lake.Storage.ListAsync(LakeLayout.Models))
        {
            var parts = item.Key[LakeLayout.Models.Length..].Split('/');
            if (parts is [var version, ModelArtifacts.Metadata] && ModelArtifacts.IsValidVersion(version))
            {
                versions.Add(version);
            }
        }

        return versions;
    }

    /// <summary>The version's metadata, or null when it has none or it cannot be read.</summary>
    public async Task<ModelMetadata?> TryReadMetadataAsync(string version)
    {
        try
        {
            return await lake.Storage.GetBytesAsync(Key(version, ModelArtifacts.Metadata)) is { } bytes ? ModelJson.ReadMetadata(bytes) : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            return null;
        }
    }

    public async Task<byte[]> ReadOnnxAsync(string version) =>
        await lake.Storage.GetBytesAsync(Key(version, ModelArtifacts.Onnx))
        ?? throw new FileNotFoundException($"Model {version} has no {ModelArtifacts.Onnx} in the model store.");

    /// <summary>Writes uploaded artifacts; metadata.json last, so no reader sees a half-written model.</summary>
    public async Task WriteAsync(string version, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        foreach (var (name, bytes) in files.Where(f => f.Key != ModelArtifacts.Metadata))
        {
            await lake.Storage.PutBytesAsync(Key(version, name), bytes, cancellationToken);
        }

        await lake.Storage.PutBytesAsync(Key(version, ModelArtifacts.Metadata), files[ModelArtifacts.Metadata], cancellationToken);
    }

    private static string Key(string version, string file) =>
        ModelArtifacts.IsValidVersion(version) ? $"{LakeLayout.Models}{version}/{file}" : throw new ArgumentException($"'{version}' is not a model version.", nameof(version));
}
