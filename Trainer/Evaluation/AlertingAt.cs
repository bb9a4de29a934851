using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Reporting;

namespace ClinicalTrials.Trainer.Evaluation;

/// <summary>
/// What alerting at one threshold means for the patients of a split: the challenge's utility, the alert burden, and how
/// early the patients with an onset were flagged. An hour alerts when its probability is at or above the threshold.
/// </summary>
/// <param name="Name">What the threshold is: <c>MEDIUM</c>, <c>HIGH</c> (serving) or the one of the best utility on validation.</param>
/// <param name="Threshold">The probability at or above which an hour alerts.</param>
/// <param name="Utility">The challenge's normalised utility; NaN when no onset is in reach.</param>
/// <param name="AlertsPerPatientDay">Alerting hours per 24 scored hours (one row is one patient-hour); NaN without rows.</param>
/// <param name="Onsets">Patients with an onset and at least one scored hour before it.</param>
/// <param name="OnsetsFlagged">Those of them with an alert within <see cref="FlagWindowHours"/> before their onset.</param>
/// <param name="MedianLeadHours">Median hours from such a patient's first alert in that window to the onset; NaN when none was flagged.</param>
public sealed record AlertingAt(string Name, double Threshold, double Utility, double AlertsPerPatientDay, int Onsets, int OnsetsFlagged,
    double MedianLeadHours)
{
    /// <summary>How long before an onset an alert counts as flagging it: the earliest hour the challenge's utility rewards.</summary>
    public const double FlagWindowHours = -ChallengeUtility.EarlyHours;

    /// <summary>
    /// Alerting at the serving thresholds (<c>MEDIUM</c>, <c>HIGH</c>) and, when the model has one, at its threshold of
    /// the best validation utility (<see cref="TrainingJob.UtilityThresholdName"/>).
    /// </summary>
    public static IReadOnlyList<AlertingAt> AtThresholds(RiskThresholds serving, double? bestUtility, IReadOnlyList<TrainingRow> rows, IReadOnlyList<float> probabilities) =>
    [
        Measure(EvaluationPlots.ServingThresholdNames[0], serving.Medium, rows, probabilities),
        Measure(EvaluationPlots.ServingThresholdNames[1], serving.High, rows, probabilities),
        .. bestUtility is { } threshold ? [Measure(TrainingJob.UtilityThresholdName, threshold, rows, probabilities)] : Array.Empty<AlertingAt>(),
    ];

    /// <summary>Alerting at <paramref name="threshold"/> over scored rows (<paramref name="probabilities"/> in row order).</summary>
    public static AlertingAt Measure(string name, double threshold, IReadOnlyList<TrainingRow> rows, IReadOnlyList<float> probabilities)
    {
        var alerts = 0;
        // Hours before onset of each patient with an onset; the earliest alert within the window gives the lead.
        var leadByPatient = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var alert = probabilities[i] >= threshold;
            alerts += alert ? 1 : 0;
            if (rows[i].Onset is not { } onset || rows[i].Timestamp >= onset)
            {
                continue;
            }

            var hoursBefore = (onset - rows[i].Timestamp).TotalHours;
            var lead = alert && hoursBefore <= FlagWindowHours ? hoursBefore : double.NaN;
            if (!leadByPatient.TryGetValue(rows[i].PatientId, out var known) || double.IsNaN(known) || lead > known)
            {
                leadByPatient[rows[i].PatientId] = lead;
            }
        }

        var leads = leadByPatient.Values.Where(l => !double.IsNaN(l)).Order().ToList();
        return new AlertingAt(name, threshold, ChallengeUtility.Normalised(rows, probabilities, threshold),
            rows.Count == 0 ? double.NaN : 24.0 * alerts / rows.Count, leadByPatient.Count, leads.Count, Median(leads));
    }

    private static double Median(List<double> sorted) => sorted.Count switch
    {
        0 => double.NaN,
        var n when n % 2 == 1 => sorted[n / 2],
        var n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    };
}
