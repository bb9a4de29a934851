using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// Ground truth for a logged prediction: what happened to the patient after it, by the offline label's own rule
/// (<see cref="OutcomeTimeline"/>). A prediction made at t is <see cref="OutcomeLabel.Positive"/> as soon as a matching
/// adverse event with onset in (t, t + horizon] is known; <see cref="OutcomeLabel.Negative"/> once t + horizon + grace
/// has passed without one (the grace period lets events reported late arrive first); until then it has no label. An
/// event reported even later still turns a negative into a positive (the store keeps the earlier label in its history).
/// With censoring, a prediction made after the patient's first matching event is <see cref="OutcomeLabel.Censored"/>:
/// such hours were left out of training, so they are left out of the evaluation too.
/// </summary>
public static class OutcomeLabels
{
    /// <param name="outcomes">The matching adverse events known now, under the model's label definition.</param>
    /// <param name="patientId">The prediction's patient.</param>
    /// <param name="predictedAt">When the prediction was made.</param>
    /// <param name="grace">How long after the horizon a negative waits for late reports.</param>
    /// <param name="now">The time of labelling.</param>
    /// <returns>The label and, for a positive, the first onset in the window; null while no label can be given yet.</returns>
    public static (OutcomeLabel Label, DateTimeOffset? Onset)? Label(
        OutcomeTimeline outcomes, string patientId, DateTimeOffset predictedAt, TimeSpan grace, DateTimeOffset now) =>
        outcomes.At(patientId, predictedAt, out var onset) switch
        {
            null => (OutcomeLabel.Censored, null),
            true => (OutcomeLabel.Positive, onset),
            false when now >= predictedAt + TimeSpan.FromHours(outcomes.Label.HorizonHours) + grace => (OutcomeLabel.Negative, null),
            false => null,
        };

    /// <summary>Labels written per transaction.</summary>
    private const int WriteBatch = 2000;

    /// <summary>
    /// The labelling pass of a monitoring run: gives every prediction logged since <paramref name="from"/> the label the
    /// <paramref name="events"/> known now say, writing only what changed (each change also goes to the label's
    /// history). The log is streamed; one timeline per label definition in use.
    /// </summary>
    /// <param name="store">The prediction log, whose labels are written back.</param>
    /// <param name="events">The adverse events known now.</param>
    /// <param name="definitionOf">The label definition of a model version (the model's metadata).</param>
    /// <param name="from">The start of the look-back: predictions made since then are (re)labelled.</param>
    /// <param name="grace">How long after the horizon a negative waits for late reports.</param>
    /// <param name="now">The time of labelling.</param>
    /// <param name="cancellationToken">Stops the pass between predictions.</param>
    public static async Task<LabellingSummary> LabelLogAsync(ITrackingStore store, IReadOnlyCollection<AdverseEvent> events,
        Func<string, Task<LabelDefinition>> definitionOf, DateTimeOffset from, TimeSpan grace, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var timelines = new Dictionary<LabelDefinition, OutcomeTimeline>();
        long examined = 0, labelled = 0, relabelled = 0, pending = 0;
        var changes = new List<PredictionOutcome>(WriteBatch);
        await foreach (var candidate in store.ReadLabelCandidatesAsync(from, cancellationToken))
        {
            examined++;
            var definition = await definitionOf(candidate.ModelVersion);
            if (!timelines.TryGetValue(definition, out var outcomes))
            {
                timelines[definition] = outcomes = new OutcomeTimeline(definition, events);
            }

            if (Label(outcomes, candidate.PatientId, candidate.PredictedAt, grace, now) is not { } outcome)
            {
                pending++;
                continue;
            }

            if (outcome.Label == candidate.Label && outcome.Onset == candidate.EventOnset)
            {
                continue;
            }

            labelled++;
            relabelled += candidate.Label is null ? 0 : 1;
            changes.Add(new PredictionOutcome(candidate.PredictionId, outcome.Label, outcome.Onset, now));
            if (changes.Count == WriteBatch)
            {
                await store.WriteOutcomesAsync(changes, cancellationToken);
                changes.Clear();
            }
        }

        if (changes.Count > 0)
        {
            await store.WriteOutcomesAsync(changes, cancellationToken);
        }

        return new LabellingSummary(examined, labelled, relabelled, pending, events.Count);
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
