namespace ClinicalTrials.Domain.Features;

/// <summary>
/// Clinical time as whole seconds since 2000-01-01 UTC, the resolution every window and feature works at.
/// An int covers 2000..2068 and keeps a stored vital-sign record at 16 bytes.
/// </summary>
internal static class ClinicalTime
{
    public const int Hour = 3600;
    public const int Day = 24 * Hour;

    /// <summary>The feature windows, shortest first; every window ends at the evaluation time.</summary>
    public static readonly int[] WindowSeconds = [Hour, 6 * Hour, Day];

    public static readonly string[] WindowLabels = ["1h", "6h", "24h"];

    public static int WindowCount => WindowSeconds.Length;

    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// An event's second, rounded up: with evaluation times rounded down, an event is only ever counted at or
    /// after its true timestamp, so sub-second rounding can delay a fact but never leak a future one.
    /// </summary>
    public static int EventSeconds(DateTimeOffset timestamp)
    {
        var ticks = Ticks(timestamp);
        return ToSeconds(ticks / TimeSpan.TicksPerSecond + (ticks % TimeSpan.TicksPerSecond > 0 ? 1 : 0), timestamp);
    }

    /// <summary>An evaluation time's second, rounded down (see <see cref="EventSeconds"/>).</summary>
    public static int EvaluationSeconds(DateTimeOffset asOf) => ToSeconds(Ticks(asOf) / TimeSpan.TicksPerSecond, asOf);

    public static DateTimeOffset ToTimestamp(int seconds) => Epoch.AddSeconds(seconds);

    public static int DayNumber(DateOnly date) => date.DayNumber - DateOnly.FromDateTime(Epoch.UtcDateTime).DayNumber;

    private static long Ticks(DateTimeOffset timestamp) => timestamp.UtcTicks - Epoch.UtcTicks;

    private static int ToSeconds(long seconds, DateTimeOffset timestamp) =>
        seconds is >= 0 and <= int.MaxValue
            ? (int)seconds
            : throw new ArgumentOutOfRangeException(nameof(timestamp), timestamp, "Clinical time must lie between 2000-01-01 and 2068-01-19 UTC.");
}
