using System.Collections.Immutable;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// One run of a pipeline job as it leaves the job grain: the lake's own run record (<c>lake.db</c>), copied into a
/// contract type so that grain clients need not load the lake.
/// </summary>
/// <param name="Id">The run's id in the lake's job records.</param>
/// <param name="Job">The job's name (<c>bronze-to-silver</c>, <c>offline-features</c>, <c>retention</c>).</param>
/// <param name="StartedAt">When the run started.</param>
/// <param name="EndedAt">When it ended; null while it runs.</param>
/// <param name="Status"><c>running</c>, <c>succeeded</c> or <c>failed</c>.</param>
/// <param name="RowsIn">Rows the job read.</param>
/// <param name="RowsOut">Rows the job wrote.</param>
/// <param name="Details">The job's own counts (rejections by reason, duplicates, torn lines, files…), by name.</param>
/// <param name="Error">Why a failed run failed.</param>
[GenerateSerializer, Immutable, Alias("job-run")]
public sealed record JobRun(
    [property: Id(0)] long Id,
    [property: Id(1)] string Job,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] DateTimeOffset? EndedAt,
    [property: Id(4)] string Status,
    [property: Id(5)] long RowsIn,
    [property: Id(6)] long RowsOut,
    [property: Id(7)] ImmutableSortedDictionary<string, long> Details,
    [property: Id(8)] string? Error);
