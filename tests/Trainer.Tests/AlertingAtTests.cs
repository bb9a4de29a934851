using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Evaluation;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>Alert burden and lead time at one threshold, against values counted by hand.</summary>
public sealed class AlertingAtTests
{
    private static readonly DateTimeOffset Onset = new(2025, 1, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Hours <paramref name="from"/> to <paramref name="to"/> (relative to <see cref="Onset"/>), scored by <paramref name="score"/>.</summary>
    private static IEnumerable<(TrainingRow Row, float P)> Hours(string patient, int from, int to, bool septic, Func<int, float> score) =>
        Enumerable.Range(from, to - from + 1).Select(h => (new TrainingRow(patient, Onset.AddHours(h), [], septic && h >= -6, septic ? Onset : null), score(h)));

    private static AlertingAt Measure(double threshold, params IEnumerable<(TrainingRow Row, float P)>[] patients)
    {
        var scored = patients.SelectMany(p => p).ToList();
        return AlertingAt.Measure("HIGH", threshold, [.. scored.Select(s => s.Row)], [.. scored.Select(s => s.P)]);
    }

    [Fact]
    public void Lead_is_from_the_first_alert_within_twelve_hours_before_onset()
    {
        // Alerts at 20 h before (outside the window), then from 9 h before on: the lead is 9 h.
        var early = Hours("PTSEPTIC01", -24, 2, septic: true, h => h == -20 || h >= -9 ? 0.9f : 0.1f);
        // Alerts only from 3 h before: lead 3 h.
        var late = Hours("PTSEPTIC02", -24, 2, septic: true, h => h >= -3 ? 0.9f : 0.1f);
        // Alerts only after onset: not flagged.
        var missed = Hours("PTSEPTIC03", -24, 2, septic: true, h => h >= 0 ? 0.9f : 0.1f);

        var alerting = Measure(0.5, early, late, missed);

        Assert.Equal(3, alerting.Onsets);
        Assert.Equal(2, alerting.OnsetsFlagged);
        Assert.Equal((9 + 3) / 2.0, alerting.MedianLeadHours, 12);
        Assert.Equal("HIGH", alerting.Name);
        Assert.Equal(0.5, alerting.Threshold);
    }

    [Fact]
    public void Burden_is_alerting_hours_per_24_scored_hours()
    {
        // 48 hours of a patient without onset, alerting in 6 of them, and 24 silent hours of another: 6 alerts in 72 hours.
        var noisy = Hours("PTHEALTHY1", 0, 47, septic: false, h => h % 8 == 0 ? 0.7f : 0.2f);
        var quiet = Hours("PTHEALTHY2", 0, 23, septic: false, _ => 0.2f);

        var alerting = Measure(0.5, noisy, quiet);

        Assert.Equal(24.0 * 6 / 72, alerting.AlertsPerPatientDay, 12);
        Assert.Equal(0, alerting.Onsets);
        Assert.Equal(0, alerting.OnsetsFlagged);
        Assert.True(double.IsNaN(alerting.MedianLeadHours));
    }

    [Fact]
    public void An_onset_without_an_hour_scored_before_it_is_not_counted()
    {
        // Admitted already septic: every scored hour is at or after onset, so no prediction could have flagged it.
        var admittedSeptic = Hours("PTSEPTIC04", 0, 10, septic: true, _ => 0.9f);

        var alerting = Measure(0.5, admittedSeptic);

        Assert.Equal(0, alerting.Onsets);
        Assert.Equal(24.0, alerting.AlertsPerPatientDay, 12);
    }

    [Fact]
    public void A_probability_equal_to_the_threshold_alerts()
    {
        var atThreshold = Hours("PTSEPTIC05", -4, -4, septic: true, _ => 0.5f);

        var alerting = Measure(0.5, atThreshold);

        Assert.Equal(1, alerting.OnsetsFlagged);
        Assert.Equal(4, alerting.MedianLeadHours, 12);
    }

    [Fact]
    public void The_serving_thresholds_come_first_and_the_utility_threshold_only_when_the_model_has_one()
    {
        var rows = Hours("PTSEPTIC01", -12, 0, septic: true, h => h >= -6 ? 0.8f : 0.2f).ToList();
        var serving = new ClinicalTrials.Models.Scoring.RiskThresholds { Medium = 0.3, High = 0.7 };

        var without = AlertingAt.AtThresholds(serving, null, [.. rows.Select(r => r.Row)], [.. rows.Select(r => r.P)]);
        var with = AlertingAt.AtThresholds(serving, 0.5, [.. rows.Select(r => r.Row)], [.. rows.Select(r => r.P)]);

        Assert.Equal(["MEDIUM", "HIGH"], without.Select(a => a.Name));
        Assert.Equal([0.3, 0.7], without.Select(a => a.Threshold));
        Assert.Equal(["MEDIUM", "HIGH", ClinicalTrials.Trainer.TrainingJob.UtilityThresholdName], with.Select(a => a.Name));
        Assert.Equal(6, with[2].MedianLeadHours, 12);
    }
}
