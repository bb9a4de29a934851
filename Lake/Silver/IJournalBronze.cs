namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// Bronze kept as rows of a shared journal rather than as files of the data directory (the cluster profile: every
/// silo journals into the cluster database). Bronze-to-silver writes each sealed hour out as a bronze file of the
/// usual layout and reads it like any other; the journal remembers up to when every hour reached the lake.
/// </summary>
public interface IJournalBronze
{
    /// <summary>
    /// The bronze files (locations under the data directory, <c>raw/{type}/date=…/hour=HH/part-0.ndjson</c>) of the
    /// accepted messages received from the journal's export mark up to <paramref name="sealedBefore"/>.
    /// </summary>
    Task<IReadOnlyList<string>> SealedFilesAsync(DateTimeOffset sealedBefore, CancellationToken cancellationToken);

    /// <summary>Writes one of those files to <paramref name="path"/>: its lines in journal order, the same bytes every time.</summary>
    Task WriteFileAsync(string location, string path, CancellationToken cancellationToken);

    /// <summary>Every hour received before <paramref name="sealedBefore"/> is in the lake: later runs start from there.</summary>
    Task MarkExportedAsync(DateTimeOffset sealedBefore, CancellationToken cancellationToken);
}
