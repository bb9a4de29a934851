using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Models.Metadata;

/// <summary>
/// Labels hours under one <see cref="LabelDefinition"/>, from the adverse events known at training or evaluation time:
/// the one place a label is derived, so that the trainer, evaluation and monitoring label alike. The features are
/// computed once (offline feature store); any outcome and horizon is derived here without recomputing them.
/// </summary>
public sealed class OutcomeTimeline
{
    private readonly Dictionary<string, long[]> _onsets;

    public OutcomeTimeline(LabelDefinition label, IEnumerable<AdverseEvent> adverseEvents)
    {
        Label = label;
        _onsets = adverseEvents.Where(label.Matches)
            .GroupBy(e => e.PatientId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Onset.UtcTicks).Order().ToArray(), StringComparer.Ordinal);
    }

    public LabelDefinition Label { get; }

    /// <summary>Patients with at least one matching event.</summary>
    public int PatientsWithEvent => _onsets.Count;

    /// <summary>The first matching onset of <paramref name="patientId"/> (t_sepsis for the challenge's utility); null when none.</summary>
    public DateTimeOffset? FirstOnset(string patientId) =>
        _onsets.TryGetValue(patientId, out var onsets) ? new DateTimeOffset(onsets[0], TimeSpan.Zero) : null;

    /// <summary>
    /// The label of <paramref name="patientId"/> at <paramref name="t"/>: true when a matching onset lies in
    /// (t, t + horizon]; null when the hour is censored (a matching onset at or before t, with censoring on).
    /// </summary>
    public bool? At(string patientId, DateTimeOffset t) => At(patientId, t, out _);

    /// <summary>As <see cref="At(string, DateTimeOffset)"/>, with the first matching onset in the window of a positive label.</summary>
    public bool? At(string patientId, DateTimeOffset t, out DateTimeOffset? onset)
    {
        onset = null;
        if (!_onsets.TryGetValue(patientId, out var onsets))
        {
            return false;
        }

        var ticks = t.UtcTicks;
        if (Label.CensorAfterFirstEvent && onsets[0] <= ticks)
        {
            return null;
        }

        var index = Array.BinarySearch(onsets, ticks + 1);
        index = index < 0 ? ~index : index;
        if (index < onsets.Length && onsets[index] <= ticks + TimeSpan.TicksPerHour * Label.HorizonHours)
        {
            onset = new DateTimeOffset(onsets[index], TimeSpan.Zero);
            return true;
        }

        return false;
    }
}
