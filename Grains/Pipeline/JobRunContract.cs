using System.Collections.Immutable;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Lake.Jobs;

namespace ClinicalTrials.Grains.Pipeline;

/// <summary>The lake's run record in the shape the grain contract carries (<see cref="JobRun"/>).</summary>
public static class JobRunContract
{
    public static JobRun ToJobRun(this JobRunRecord record) =>
        new(record.Id, record.Job, record.StartedAt, record.EndedAt, record.Status, record.RowsIn, record.RowsOut,
            record.Details.ToImmutableSortedDictionary(StringComparer.Ordinal), record.Error);
}
