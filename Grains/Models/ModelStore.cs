using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Grains.Models;

/// <summary>
/// The model artifacts of this platform: <c>models/{version}/</c> (model.onnx, metadata.json, plots, report) in the lake
/// storage, so the data directory when embedded and the bucket when <c>Storage:Provider</c> is S3. Shared by the registry
/// (which versions exist), the model host (loading) and the upload endpoint. A version's files are written once: the
/// upload endpoint refuses a version that already has a metadata.json.
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

    /// <summary>The version's metadata, complete and naming this version.</summary>
    /// <exception cref="InvalidDataException">It is missing, incomplete, or names another version; the message says which.</exception>
    public async Task<ModelMetadata> ReadMetadataAsync(string version)
    {
        var bytes = await lake.Storage.GetBytesAsync(Key(version, ModelArtifacts.Metadata))
            ?? throw new InvalidDataException($"Model {version} has no {ModelArtifacts.Metadata} in the model store.");
        var metadata = ModelJson.ReadMetadata(bytes);
        return metadata.Version == version
            ? metadata
            : throw new InvalidDataException($"The {ModelArtifacts.Metadata} of model {version} names version {metadata.Version}.");
    }

    /// <exception cref="InvalidDataException">The version has no model.onnx.</exception>
    public async Task<byte[]> ReadOnnxAsync(string version) =>
        await lake.Storage.GetBytesAsync(Key(version, ModelArtifacts.Onnx))
        ?? throw new InvalidDataException($"Model {version} has no {ModelArtifacts.Onnx} in the model store.");

    /// <summary>The files of <paramref name="version"/>'s folder (not of folders below it), by name, in ordinal order; empty for an unknown version.</summary>
    public async Task<IReadOnlyList<LakeObject>> ListArtifactsAsync(string version, CancellationToken cancellationToken = default)
    {
        var prefix = Key(version, "");
        var files = new List<LakeObject>();
        await foreach (var item in lake.Storage.ListAsync(prefix, cancellationToken))
        {
            if (item.Key.IndexOf('/', prefix.Length) < 0)
            {
                files.Add(item with { Key = item.Key[prefix.Length..] });
            }
        }

        return files;
    }

    /// <summary>
    /// The bytes of the file <paramref name="name"/> of <paramref name="version"/>, or null when the version has no such
    /// file. Only a name that the version's own listing holds is read, so no name reaches outside the version's folder.
    /// </summary>
    public async Task<byte[]?> ReadArtifactAsync(string version, string name, CancellationToken cancellationToken = default) =>
        (await ListArtifactsAsync(version, cancellationToken)).Any(f => f.Key == name)
            ? await lake.Storage.GetBytesAsync(Key(version, name), cancellationToken)
            : null;

    /// <summary>
    /// Writes an uploaded version's artifacts, metadata.json last so no reader sees a half-written model. Versions are
    /// immutable: when the version already has a metadata.json nothing is written, and the answer says whether the stored
    /// files are exactly these (a retried upload, or the trainer's own copy in a shared data directory) or not. A version
    /// whose earlier upload failed part-way (no metadata.json yet) is written over.
    /// </summary>
    public async Task<ModelWrite> WriteAsync(string version, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        if (await lake.Storage.GetBytesAsync(Key(version, ModelArtifacts.Metadata), cancellationToken) is not null)
        {
            foreach (var (name, bytes) in files)
            {
                if (await lake.Storage.GetBytesAsync(Key(version, name), cancellationToken) is not { } stored || !stored.AsSpan().SequenceEqual(bytes))
                {
                    return ModelWrite.Conflict;
                }
            }

            return ModelWrite.AlreadyStored;
        }

        foreach (var (name, bytes) in files.Where(f => f.Key != ModelArtifacts.Metadata))
        {
            await lake.Storage.PutBytesAsync(Key(version, name), bytes, cancellationToken);
        }

        await lake.Storage.PutBytesAsync(Key(version, ModelArtifacts.Metadata), files[ModelArtifacts.Metadata], cancellationToken);
        return ModelWrite.Written;
    }

    /// <summary>Why an upload of <paramref name="version"/> with other content is refused.</summary>
    public static string AlreadyExists(string version) =>
        $"Model version {version} already exists with other content and versions are immutable; upload the new model under a new version.";

    private static string Key(string version, string file) =>
        ModelArtifacts.IsValidVersion(version) ? $"{LakeLayout.Models}{version}/{file}" : throw new ArgumentException($"'{version}' is not a model version.", nameof(version));
}

/// <summary>What <see cref="ModelStore.WriteAsync"/> did.</summary>
public enum ModelWrite
{
    /// <summary>The version was new; its files are stored.</summary>
    Written,

    /// <summary>The version exists with exactly these files; nothing was written.</summary>
    AlreadyStored,

    /// <summary>The version exists with other files; nothing was written.</summary>
    Conflict,
}
