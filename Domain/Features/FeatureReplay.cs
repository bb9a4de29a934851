using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// Offline (training) features: replays one patient's history through <see cref="PatientFeatureState"/>, the same
/// code the grain runs online, and reads the vector at chosen times. A vector at t uses only events with
/// timestamp &lt;= t (at one-second resolution), so training rows are point-in-time correct.
/// </summary>
public static class FeatureReplay
{
    /// <summary>The vector as of <paramref name="asOf"/> from a patient's history in any order, duplicates included.</summary>
    public static FeatureVector VectorAt(IEnumerable<ClinicalMessage> history, DateTimeOffset asOf) => At(history, [asOf]).Single();

    /// <summary>
    /// The vector at each whole hour from the first event's hour (rounded up) to the last event's hour (rounded up).
    /// Empty for an empty history.
    /// </summary>
    public static IEnumerable<FeatureVector> Hourly(IReadOnlyCollection<ClinicalMessage> history)
    {
        if (history.Count == 0)
        {
            return [];
        }

        var first = CeilingToHour(history.Min(m => m.Timestamp));
        var last = CeilingToHour(history.Max(m => m.Timestamp));
        var hours = (int)((last - first).Ticks / TimeSpan.TicksPerHour);
        return At(history, Enumerable.Range(0, hours + 1).Select(h => first.AddHours(h)));
    }

    /// <summary>The vector at each of <paramref name="times"/>, which must be ascending.</summary>
    public static IEnumerable<FeatureVector> At(IEnumerable<ClinicalMessage> history, IEnumerable<DateTimeOffset> times)
    {
        var ordered = history.OrderBy(m => ClinicalTime.EventSeconds(m.Timestamp)).ToList();
        var state = new PatientFeatureState();
        var next = 0;
        DateTimeOffset? previous = null;
        foreach (var asOf in times)
        {
            if (asOf < previous)
            {
                throw new ArgumentException("Evaluation times must be ascending.", nameof(times));
            }

            var seconds = ClinicalTime.EvaluationSeconds(asOf);
            for (; next < ordered.Count && ClinicalTime.EventSeconds(ordered[next].Timestamp) <= seconds; next++)
            {
                state.Apply(ordered[next]);
            }

            state.AdvanceTo(asOf);
            previous = asOf;
            yield return state.Current;
        }
    }

    /// <summary>
    /// The hourly evaluation grid's rule: the first whole UTC hour at or after <paramref name="timestamp"/>. Both
    /// offline paths (<see cref="Hourly"/> and the lake's offline features job) pick their evaluation hours by it.
    /// </summary>
    public static DateTimeOffset CeilingToHour(DateTimeOffset timestamp)
    {
        var utc = timestamp.ToUniversalTime();
        var floor = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
        return floor == utc ? floor : floor.AddHours(1);
    }
}
