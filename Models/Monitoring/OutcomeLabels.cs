using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// Ground truth for a logged prediction: what happened to the patient after it. A prediction made at t is
/// <see cref="OutcomeLabel.Positive"/> as soon as a matching adverse event with onset in (t, t + horizon] is known;
/// <see cref="OutcomeLabel.Negative"/> once t + horizon + grace has passed without one (the grace period lets events
/// reported late arrive first); until then it has no label. An event reported even later still turns a negative into a
/// positive (the store keeps the earlier label in its history). With censoring, a prediction made after the patient's
/// first matching event is <see cref="OutcomeLabel.Censored"/>: such hours were left out of training, so they are left
/// out of the evaluation too. The same rule as the offline label (onset strictly after t, at most t + horizon).
/// </summary>
public static class OutcomeLabels
{
    /// <param name="predictedAt">When the prediction was made.</param>
    /// <param name="onsets">The onsets of the patient's adverse events that match <paramref name="label"/>, ascending.</param>
    /// <param name="label">The model's label definition.</param>
    /// <param name="grace">How long after the horizon a negative waits for late reports.</param>
    /// <param name="now">The time of labelling.</param>
    /// <returns>The label and, for a positive, the first onset in the window; null while no label can be given yet.</returns>
    public static (OutcomeLabel Label, DateTimeOffset? Onset)? Label(
        DateTimeOffset predictedAt, IReadOnlyList<DateTimeOffset> onsets, LabelDefinition label, TimeSpan grace, DateTimeOffset now)
    {
        var end = predictedAt + TimeSpan.FromHours(label.HorizonHours);
        var first = FirstAfter(onsets, predictedAt);
        if (label.CensorAfterFirstEvent && first > 0)
        {
            return (OutcomeLabel.Censored, null);
        }

        if (first < onsets.Count && onsets[first] <= end)
        {
            return (OutcomeLabel.Positive, onsets[first]);
        }

        return now >= end + grace ? (OutcomeLabel.Negative, null) : null;
    }

    /// <summary>The index of the first onset strictly after <paramref name="t"/> (the count when there is none).</summary>
    private static int FirstAfter(IReadOnlyList<DateTimeOffset> onsets, DateTimeOffset t)
    {
        int low = 0, high = onsets.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (onsets[middle] <= t)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}

/// <summary>What became of a prediction's patient within the model's horizon.</summary>
public enum OutcomeLabel
{
    /// <summary>A matching adverse event had onset within the horizon.</summary>
    Positive,

    /// <summary>The horizon and the grace period passed without one.</summary>
    Negative,

    /// <summary>Made after the patient's first matching event, under a censored label: not evaluated.</summary>
    Censored,
}
