using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;
using ParquetSharp;

namespace ClinicalTrials.Lake.Features;

/// <summary>
/// Reads the offline feature store (<c>features/offline/date=YYYY-MM-DD/</c>), the training input of the Trainer.
/// Rows are point-in-time correct: the features of a row at t use only events with timestamp &lt;= t. Labels are not
/// stored: the adverse events (<see cref="ReadAdverseEventsAsync"/>) label the rows at training time. Usage:
/// <code>
/// var store = new OfflineFeatureStore(storage);
/// var schema = await store.ReadSchemaAsync(from, to);          // names, version
/// await foreach (var row in store.ReadAsync(from, to)) { … }    // streams, one row group in memory at a time
/// var events = await store.ReadAdverseEventsAsync();           // every stored adverse event (silver), for the labels
/// </code>
/// </summary>
public sealed class OfflineFeatureStore(ILakeStorage storage)
{
    /// <summary>The schema of the files in the range, or null when the range holds none.</summary>
    /// <exception cref="InvalidDataException">Files in the range were written with different feature sets or labels.</exception>
    public async Task<OfflineFeatureSchema?> ReadSchemaAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken = default)
    {
        OfflineFeatureSchema? schema = null;
        foreach (var key in await KeysAsync(from, to, cancellationToken))
        {
            using var lease = await storage.OpenLocalAsync(key, cancellationToken);
            if (lease is null)
            {
                continue;
            }

            using var reader = new ParquetFileReader(lease.Path);
            schema = Check(schema, OfflineFeatureFile.Schema(reader), key);
        }

        return schema;
    }

    /// <summary>
    /// Every row with a date in [<paramref name="from"/>, <paramref name="to"/>], ordered by date, then bucket file, then
    /// patient and time. Streams: one row group is in memory at a time.
    /// </summary>
    /// <exception cref="InvalidDataException">Files in the range were written with different feature sets or labels.</exception>
    public async IAsyncEnumerable<OfflineFeatureRow> ReadAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        OfflineFeatureSchema? schema = null;
        foreach (var key in await KeysAsync(from, to, cancellationToken))
        {
            using var lease = await storage.OpenLocalAsync(key, cancellationToken);
            if (lease is null)
            {
                continue; // removed by retention or a re-run meanwhile
            }

            using var reader = new ParquetFileReader(lease.Path);
            schema = Check(schema, OfflineFeatureFile.Schema(reader), key);
            foreach (var row in OfflineFeatureFile.Read(reader, schema.FeatureNames.Count))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return row;
            }
        }
    }

    /// <summary>
    /// Every adverse event of the silver layer (<c>processed/adverse_event/</c>), whatever its date: a label at t looks at
    /// onsets after t, so the events of later dates count too.
    /// </summary>
    public Task<List<AdverseEvent>> ReadAdverseEventsAsync(CancellationToken cancellationToken = default) =>
        SilverAdverseEvents.ReadAsync(storage, from: null, cancellationToken);

    /// <summary>The feature files of the range, in date order.</summary>
    public async Task<List<string>> KeysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken = default)
    {
        var keys = new List<string>();
        await foreach (var item in storage.ListAsync(LakeLayout.OfflineFeatures, cancellationToken))
        {
            if (item.Key.EndsWith(".parquet", StringComparison.Ordinal) && LakeLayout.DateOf(item.Key) is { } date && date >= from && date <= to)
            {
                keys.Add(item.Key);
            }
        }

        return keys;
    }

    private static OfflineFeatureSchema Check(OfflineFeatureSchema? expected, OfflineFeatureSchema found, string key) =>
        expected is null || (expected.FeatureVersion == found.FeatureVersion && expected.FeatureNames.SequenceEqual(found.FeatureNames))
            ? found
            : throw new InvalidDataException(
                $"{key} holds feature set {found.FeatureVersion}; earlier files of the range hold {expected.FeatureVersion}. Re-run the offline-features backfill over the range.");
}
