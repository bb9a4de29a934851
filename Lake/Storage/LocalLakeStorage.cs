using System.Runtime.CompilerServices;

namespace ClinicalTrials.Lake.Storage;

/// <summary>The lake as a directory tree (the embedded default): a key is a path under <see cref="Root"/>.</summary>
public sealed class LocalLakeStorage : ILakeStorage
{
    public LocalLakeStorage(string root)
    {
        Root = Path.GetFullPath(root);
        // Scratch files live under the root so that storing one is a rename, never a copy across file systems.
        ScratchDirectory = Path.Combine(Root, ".lake-tmp");
        Directory.CreateDirectory(ScratchDirectory);
    }

    public string Root { get; }

    public string Description => $"local {Root}";

    public string ScratchDirectory { get; }

    public Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using (var handle = File.OpenHandle(sourcePath, FileMode.Open, FileAccess.ReadWrite))
        {
            // The rename must not become visible before the bytes are on disk, or a crash could expose a hollow file.
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(sourcePath, target, overwrite: true);
        return Task.CompletedTask;
    }

    public async Task PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var scratch = Path.Combine(ScratchDirectory, $"{Guid.NewGuid():N}.tmp");
        await File.WriteAllBytesAsync(scratch, content.ToArray(), cancellationToken);
        await PutFileAsync(key, scratch, cancellationToken);
    }

    public async Task CopyFromAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        var scratch = Path.Combine(ScratchDirectory, $"{Guid.NewGuid():N}.tmp");
        File.Copy(sourcePath, scratch, overwrite: true);
        await PutFileAsync(key, scratch, cancellationToken);
    }

    public async Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken) : null;
    }

    public Task<LocalFileLease?> OpenLocalAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        return Task.FromResult(File.Exists(path) ? new LocalFileLease(path, temporary: false) : null);
    }

    public async IAsyncEnumerable<LakeObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // A prefix may end inside a folder name ("raw/vit"), so walk from the folder that contains it.
        var slash = prefix.LastIndexOf('/');
        var folder = Path.Combine(Root, slash < 0 ? "" : prefix[..slash]);
        if (!Directory.Exists(folder))
        {
            yield break;
        }

        var keys = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(key => key.StartsWith(prefix, StringComparison.Ordinal) && !key.StartsWith(".lake-tmp/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var info = new FileInfo(PathOf(key));
            if (info.Exists)
            {
                yield return new LakeObject(key, info.Length, info.LastWriteTimeUtc);
            }
        }

        await Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        LakeLayout.CheckKey(key);
        return Path.Combine(Root, key);
    }
}
