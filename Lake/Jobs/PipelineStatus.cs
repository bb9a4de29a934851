using ClinicalTrials.Domain.Lake;
using ParquetSharp;

namespace ClinicalTrials.Lake.Jobs;

/// <summary>Files and rows of one layer, and its latest partition (<c>date=…</c> or <c>date=…/hour=…</c>).</summary>
public sealed record LayerStatus(string Layer, string Location, long Files, long Rows, string? LatestPartition);

/// <summary>
/// Counts per layer for <c>GET /api/pipeline/status</c>: bronze and quarantine from the journal's local files (rows are
/// lines), silver and offline features from the lake storage (rows from each Parquet footer), models by file.
/// </summary>
public static class PipelineStatus
{
    public static async Task<IReadOnlyList<LayerStatus>> ReadAsync(LakeContext lake, CancellationToken cancellationToken = default) =>
    [
        LocalLayer(lake, "bronze", BronzeRecord.RawFolder),
        LocalLayer(lake, "quarantine", BronzeRecord.QuarantineFolder),
        await StoredLayerAsync(lake, "silver", LakeLayout.Processed, parquetRows: true, cancellationToken),
        await StoredLayerAsync(lake, "offline_features", LakeLayout.OfflineFeatures, parquetRows: true, cancellationToken),
        await StoredLayerAsync(lake, "models", LakeLayout.Models, parquetRows: false, cancellationToken),
    ];

    private static LayerStatus LocalLayer(LakeContext lake, string layer, string folder)
    {
        var root = Path.Combine(lake.DataDirectory, folder);
        var files = Directory.Exists(root) ? Directory.GetFiles(root, "*.ndjson", SearchOption.AllDirectories) : [];
        long rows = 0;
        var buffer = new byte[1 << 20];
        foreach (var path in files)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                rows += buffer.AsSpan(0, read).Count((byte)'\n');
            }
        }

        var latest = files.Select(f => Path.GetRelativePath(root, Path.GetDirectoryName(f)!).Replace(Path.DirectorySeparatorChar, '/'))
            .Select(p => p[(p.IndexOf("date=", StringComparison.Ordinal) is var at and >= 0 ? at : 0)..])
            .Max(StringComparer.Ordinal);
        return new LayerStatus(layer, $"{folder}/ (local)", files.Length, rows, latest);
    }

    private static async Task<LayerStatus> StoredLayerAsync(LakeContext lake, string layer, string prefix, bool parquetRows, CancellationToken cancellationToken)
    {
        long files = 0, rows = 0;
        string? latest = null;
        await foreach (var item in lake.Storage.ListAsync(prefix, cancellationToken))
        {
            files++;
            if (LakeLayout.DateOf(item.Key) is { } date && (latest is null || string.CompareOrdinal(LakeLayout.DatePartition(date), latest) > 0))
            {
                latest = LakeLayout.DatePartition(date);
            }

            if (parquetRows && item.Key.EndsWith(".parquet", StringComparison.Ordinal))
            {
                using var lease = await lake.Storage.OpenLocalAsync(item.Key, cancellationToken);
                if (lease is not null)
                {
                    using var reader = new ParquetFileReader(lease.Path);
                    rows += reader.FileMetaData.NumRows;
                }
            }
        }

        return new LayerStatus(layer, $"{prefix} ({lake.Storage.Description})", files, rows, latest);
    }
}
