using System.Globalization;

namespace ClinicalTrials.Generator;

public sealed record GeneratorSettings(
    Uri Url, int Count, Pause Interval, bool Verbose, int Seed, int Patients, int Sites, double InvalidShare,
    double Days, LoadRate? Rate, int BatchSize, int Concurrency, int Warmup, double Shift = 0, bool ConceptDrift = false)
{
    public SyntheticTrial NewTrial() => new(Seed, Patients, Sites, InvalidShare, Shift, conceptDrift: ConceptDrift);

    /// <summary>Clinical time of message <paramref name="index"/>: now, or spread evenly over the past <see cref="Days"/>.</summary>
    public DateTimeOffset ClinicalTime(int index, DateTimeOffset start) =>
        Days <= 0 ? DateTimeOffset.UtcNow : start.AddDays(-Days).AddTicks((long)(TimeSpan.FromDays(Days).Ticks * ((double)index / (Warmup + Count))));
}

/// <summary>Seconds between messages: a fixed value or a uniform range ("2-5").</summary>
public sealed record Pause(double Min, double Max)
{
    public static Pause Parse(string text)
    {
        var parts = text.Split('-', 2);
        var min = double.Parse(parts[0], CultureInfo.InvariantCulture);
        var max = parts.Length == 2 ? double.Parse(parts[1], CultureInfo.InvariantCulture) : min;
        return min < 0 || max < min ? throw new FormatException($"--interval '{text}' must be a value or a range low-high.") : new Pause(min, max);
    }

    public TimeSpan Next(Random random) => TimeSpan.FromSeconds(Min + random.NextDouble() * (Max - Min));
}

/// <summary>Load mode: a target rate, or as fast as possible (<see cref="PerSecond"/> null).</summary>
public sealed record LoadRate(double? PerSecond)
{
    public static LoadRate? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "max" => new LoadRate((double?)null),
        var t => new LoadRate(double.Parse(t.Replace("/s", ""), CultureInfo.InvariantCulture)),
    };
}
