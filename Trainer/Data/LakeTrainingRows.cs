using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// The offline feature store (<c>features/offline/date=YYYY-MM-DD/*.parquet</c>, written by the lake's offline-features
/// job) as training rows: the adapter between the lake's reader and the trainer. Feature names, order and version come
/// from the files' schema, so a model records exactly what it was trained on.
/// </summary>
public sealed class LakeTrainingRows : ITrainingRows
{
    private readonly OfflineFeatureStore _store;

    private LakeTrainingRows(OfflineFeatureStore store, string source, OfflineFeatureSchema? schema)
    {
        _store = store;
        Source = source;
        FeatureVersion = schema?.FeatureVersion ?? FeatureCatalogue.Version;
        FeatureNames = schema?.FeatureNames ?? FeatureCatalogue.Names;
    }

    public string Source { get; }

    public string FeatureVersion { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Reads the schema of the range (the catalogue's when the range holds no file: the job then finds no rows).</summary>
    /// <exception cref="InvalidDataException">The range mixes feature versions; the message says to re-run the backfill.</exception>
    public static async Task<LakeTrainingRows> OpenAsync(ILakeStorage storage, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var store = new OfflineFeatureStore(storage);
        return new LakeTrainingRows(store, $"offline feature store ({storage.Description})", await store.ReadSchemaAsync(from, to, cancellationToken));
    }

    public async IAsyncEnumerable<TrainingRow> ReadAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _store.ReadAsync(from, to, cancellationToken))
        {
            var features = new float[row.Features.Length];
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = (float)row.Features[i];
            }

            yield return new TrainingRow(row.PatientId, row.Timestamp, features, row.Label);
        }
    }
}
