using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// Where the trainer's examples come from: the offline feature store in production, replayed histories in tests.
/// Rows must come in a stable order for a given range, so that a run is reproducible and its content hash meaningful.
/// </summary>
public interface ITrainingRows
{
    /// <summary>A short description of the source for the metadata and the run record (e.g. a path).</summary>
    string Source { get; }

    /// <summary>The feature catalogue version the rows were computed with.</summary>
    string FeatureVersion { get; }

    /// <summary>What the rows' labels mean (outcome, horizon, censoring); censored hours are not yielded at all.</summary>
    LabelDefinition Label { get; }

    /// <summary>Feature names in the order of <see cref="TrainingRow.Features"/>.</summary>
    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Rows whose timestamp falls on a day from <paramref name="from"/> to <paramref name="to"/> (UTC, inclusive).</summary>
    IAsyncEnumerable<TrainingRow> ReadAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken);
}
