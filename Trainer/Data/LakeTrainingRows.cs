using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// The offline feature store (<c>features/offline/date=YYYY-MM-DD/*.parquet</c>, written by the lake's offline-features
/// job) as training rows: the adapter between the lake's reader and the trainer. Feature names, order and version come
/// from the files' schema, so a model records exactly what it was trained on. Labels come from the silver adverse
/// events under the run's <see cref="LabelDefinition"/>; censored hours are skipped.
/// </summary>
public sealed class LakeTrainingRows : ITrainingRows
{
    private readonly OfflineFeatureStore _store;

    private readonly OutcomeTimeline _outcomes;

    private LakeTrainingRows(OfflineFeatureStore store, string source, OfflineFeatureSchema? schema, OutcomeTimeline outcomes)
    {
        _store = store;
        _outcomes = outcomes;
        Source = source;
        FeatureVersion = schema?.FeatureVersion ?? FeatureCatalogue.Version;
        FeatureNames = schema?.FeatureNames ?? FeatureCatalogue.Names;
    }

    public string Source { get; }

    public string FeatureVersion { get; }

    public LabelDefinition Label => _outcomes.Label;

    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The rows of the range labelled with <see cref="LabelDefinition.Default"/>.</summary>
    public static Task<LakeTrainingRows> OpenAsync(ILakeStorage storage, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
        OpenAsync(storage, from, to, LabelDefinition.Default, cancellationToken);

    /// <summary>
    /// Reads the schema of the range (the catalogue's when the range holds no file: the job then finds no rows) and every
    /// stored adverse event, which label the rows under <paramref name="label"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The range mixes feature versions; the message says to re-run the backfill.</exception>
    public static async Task<LakeTrainingRows> OpenAsync(ILakeStorage storage, DateOnly from, DateOnly to, LabelDefinition label, CancellationToken cancellationToken)
    {
        var store = new OfflineFeatureStore(storage);
        var schema = await store.ReadSchemaAsync(from, to, cancellationToken);
        var outcomes = new OutcomeTimeline(label, await store.ReadAdverseEventsAsync(cancellationToken));
        return new LakeTrainingRows(store, $"offline feature store ({storage.Description})", schema, outcomes);
    }

    public async IAsyncEnumerable<TrainingRow> ReadAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _store.ReadAsync(from, to, cancellationToken))
        {
            if (_outcomes.At(row.PatientId, row.Timestamp) is not { } label)
            {
                continue; // censored: the patient's event has happened
            }

            var features = new float[row.Features.Length];
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = (float)row.Features[i];
            }

            yield return new TrainingRow(row.PatientId, row.Timestamp, features, label, _outcomes.FirstOnset(row.PatientId));
        }
    }
}
