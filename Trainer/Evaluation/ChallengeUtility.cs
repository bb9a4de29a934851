namespace ClinicalTrials.Trainer.Evaluation;

/// <summary>One scored hour for the challenge's utility: the patient, the hour, whether the model alerted, and the patient's onset.</summary>
/// <param name="PatientId">The patient; the utility sums each patient's hours.</param>
/// <param name="Hour">The hour scored.</param>
/// <param name="Alert">Whether the model's probability reached the alert threshold.</param>
/// <param name="Onset">The patient's first onset of the outcome (t_sepsis); null for a patient without one.</param>
public readonly record struct UtilityHour(string PatientId, DateTimeOffset Hour, bool Alert, DateTimeOffset? Onset);

/// <summary>
/// The PhysioNet/Computing in Cardiology Challenge 2019 utility score (Reyna et al., Crit Care Med 2020): each hourly
/// alert earns or costs according to its time relative to onset t_sepsis, and the total is normalised so that never
/// alerting scores 0 and alerting exactly from 12 h before onset to 3 h after scores 1. For a patient with an onset,
/// an alert from 12 h to 6 h before it earns a reward rising linearly from 0 to 1, from 6 h before to 3 h after a
/// reward falling from 1 to 0; a missed hour from 6 h before to 3 h after costs up to 2 at 3 h after (0 at 6 h before);
/// earlier alerts cost as false alarms; hours later than 3 h after onset count nothing. For a patient without one every
/// alert costs 0.05. The challenge's labels mark t_sepsis - 6 h; ours carry t_sepsis itself (the adverse event's onset),
/// so offsets here are measured from the onset directly.
/// </summary>
public static class ChallengeUtility
{
    /// <summary>The earliest hour before onset an alert is rewarded (negative: before).</summary>
    public const double EarlyHours = -12;
    private const double OptimalHours = -6;
    private const double LateHours = 3;
    private const double TruePositiveReward = 1;
    private const double FalseNegativeCost = -2;
    private const double FalsePositiveCost = -0.05;

    /// <summary>The normalised utility of <paramref name="hours"/>; NaN when the best possible total is not above inaction's (no onset in reach).</summary>
    public static double Normalised(IEnumerable<UtilityHour> hours)
    {
        double observed = 0, best = 0, inaction = 0;
        foreach (var hour in hours)
        {
            observed += Of(hour);
            best += Of(hour with { Alert = BestAlert(hour) });
            inaction += Of(hour with { Alert = false });
        }

        return best - inaction > 0 ? (observed - inaction) / (best - inaction) : double.NaN;
    }

    /// <summary>The normalised utility of scored rows when an alert is a probability at or above <paramref name="threshold"/>.</summary>
    public static double Normalised(IReadOnlyList<Data.TrainingRow> rows, IReadOnlyList<float> probabilities, double threshold) =>
        Normalised(rows.Select((r, i) => new UtilityHour(r.PatientId, r.Timestamp, probabilities[i] >= threshold, r.Onset)));

    /// <summary>
    /// The alert threshold with the highest utility on <paramref name="rows"/> (the validation patients), from 0.005 to
    /// 0.995 in steps of 0.005: the model's probabilities, not a rank, so the same threshold carries over to other data.
    /// </summary>
    public static double BestThreshold(IReadOnlyList<Data.TrainingRow> rows, IReadOnlyList<float> probabilities)
    {
        var (best, bestUtility) = (0.5, double.NegativeInfinity);
        for (var i = 1; i < 200; i++)
        {
            var threshold = Math.Round(i * 0.005, 3);
            if (Normalised(rows, probabilities, threshold) is var utility && utility > bestUtility)
            {
                (best, bestUtility) = (threshold, utility);
            }
        }

        return best;
    }

    /// <summary>The utility of one hour.</summary>
    public static double Of(UtilityHour hour)
    {
        if (hour.Onset is not { } onset)
        {
            return hour.Alert ? FalsePositiveCost : 0;
        }

        var t = (hour.Hour - onset).TotalHours;
        if (t > LateHours)
        {
            return 0;
        }

        if (t <= OptimalHours)
        {
            // Rises from 0 at 12 h before onset to the full reward at 6 h before; earlier it is a false alarm.
            return hour.Alert ? Math.Max(TruePositiveReward * (t - EarlyHours) / (OptimalHours - EarlyHours), FalsePositiveCost) : 0;
        }

        var afterOptimal = (t - OptimalHours) / (LateHours - OptimalHours);
        return hour.Alert ? TruePositiveReward * (1 - afterOptimal) : FalseNegativeCost * afterOptimal;
    }

    private static bool BestAlert(UtilityHour hour) =>
        hour.Onset is { } onset && (hour.Hour - onset).TotalHours is var t && t >= EarlyHours && t <= LateHours;
}
