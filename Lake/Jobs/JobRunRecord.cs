namespace ClinicalTrials.Lake.Jobs;

/// <summary>
/// One run of a pipeline job. <see cref="Status"/> is <c>running</c>, <c>succeeded</c> or <c>failed</c>;
/// <see cref="Details"/> holds the job's own counts (rejections by reason, duplicates, torn lines, files…).
/// </summary>
public sealed record JobRunRecord(
    long Id,
    string Job,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string Status,
    long RowsIn,
    long RowsOut,
    IReadOnlyDictionary<string, long> Details,
    string? Error);

/// <summary>What a job run is asked to do: an optional date range (a backfill); null means the job's own incremental choice.</summary>
public sealed record JobArguments(DateOnly? From = null, DateOnly? To = null)
{
    public static readonly JobArguments Incremental = new();
}

/// <summary>What a job reports when it ends.</summary>
public sealed class JobOutcome
{
    private readonly Dictionary<string, long> _details = new(StringComparer.Ordinal);

    public long RowsIn { get; set; }

    public long RowsOut { get; set; }

    public IReadOnlyDictionary<string, long> Details => _details;

    public void Count(string key, long amount = 1)
    {
        if (amount != 0)
        {
            _details[key] = _details.GetValueOrDefault(key) + amount;
        }
    }

    /// <summary>Adds what another part of the same run did.</summary>
    public void Add(JobOutcome other)
    {
        RowsIn += other.RowsIn;
        RowsOut += other.RowsOut;
        foreach (var (key, amount) in other._details)
        {
            Count(key, amount);
        }
    }
}

/// <summary>A pipeline job: runs to the end, incrementally and idempotently, and reports what it did.</summary>
public interface ILakeJob
{
    /// <summary>The job's name in the API and CLI (<c>bronze-to-silver</c>, <c>offline-features</c>, <c>retention</c>).</summary>
    string Name { get; }

    Task<JobOutcome> RunAsync(JobArguments arguments, CancellationToken cancellationToken);
}
