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

/// <summary>
/// What a job run is asked to do: an optional date range (a backfill; <see cref="To"/> defaults to <see cref="From"/>);
/// null means the job's own incremental choice.
/// </summary>
public sealed record JobArguments(DateOnly? From = null, DateOnly? To = null)
{
    /// <summary>
    /// Most days one backfill may cover. A run holds its request (and the job grain) until it ends, and a year of
    /// hourly vectors is already the larger part of an hour on one core; longer ranges are run as several backfills.
    /// </summary>
    public const int MaxDays = 366;

    public static readonly JobArguments Incremental = new();

    /// <summary>Null when the range can be run; otherwise the field (<c>from</c> or <c>to</c>) and the broken rule.</summary>
    /// <param name="today">Today (UTC): no data can be dated after tomorrow, so a later <c>to</c> is a mistake.</param>
    public (string Field, string Rule)? Problem(DateOnly today)
    {
        if (From is not { } from)
        {
            return To is null ? null : ("from", "required: 'to' needs 'from'.");
        }

        var to = To ?? from;
        if (to < from)
        {
            return ("to", "range: 'to' must not be before 'from'.");
        }

        if (to.DayNumber - from.DayNumber + 1 > MaxDays)
        {
            return ("to", $"range: 'from' to 'to' may cover at most {MaxDays} days; run a longer backfill as several.");
        }

        return to > today.AddDays(1) ? ("to", "range: 'to' must not be after tomorrow (UTC).") : null;
    }
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
