using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Models.Tests.Monitoring;

public sealed class OutcomeLabelsTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly LabelDefinition Day = new("any", 24, false);
    private static readonly TimeSpan Grace = TimeSpan.FromHours(12);
    private const string Patient = "PT12AB34CD";

    private static (OutcomeLabel, DateTimeOffset?)? Label(DateTimeOffset now, LabelDefinition? label = null, params double[] onsetHours) =>
        OutcomeLabels.Label(new OutcomeTimeline(label ?? Day, onsetHours.Select(h => Event("NAUSEA", Severity.Mild, onset: T.AddHours(h)))), Patient, T, Grace, now);

    [Fact]
    public void An_onset_within_the_horizon_is_positive_at_once()
    {
        Assert.Equal((OutcomeLabel.Positive, T.AddHours(3)), Label(T.AddHours(4), null, 3));
        Assert.Equal((OutcomeLabel.Positive, T.AddHours(24)), Label(T.AddHours(25), null, 24));
    }

    [Fact]
    public void An_onset_at_the_prediction_or_after_the_horizon_does_not_count()
    {
        // Onset at t itself is in the features' past, not the future the model predicts; just after t + 24 h is outside.
        Assert.Null(Label(T.AddHours(30), null, 0, 24.01));
        Assert.Equal((OutcomeLabel.Negative, null), Label(T.AddHours(36), null, 0, 24.01));
    }

    [Fact]
    public void Negative_waits_for_the_horizon_and_the_grace_period()
    {
        Assert.Null(Label(T.AddHours(24)));
        Assert.Null(Label(T.AddHours(35.99)));
        Assert.Equal((OutcomeLabel.Negative, null), Label(T.AddHours(36)));
    }

    [Fact]
    public void A_late_report_turns_a_negative_into_a_positive()
    {
        Assert.Equal((OutcomeLabel.Negative, null), Label(T.AddDays(3)));
        Assert.Equal((OutcomeLabel.Positive, T.AddHours(20)), Label(T.AddDays(4), null, 20));
    }

    [Fact]
    public void The_horizon_is_the_models_own()
    {
        var sixHours = new LabelDefinition("any", 6, false);
        Assert.Equal((OutcomeLabel.Negative, null), Label(T.AddHours(20), sixHours, 7));
        Assert.Equal((OutcomeLabel.Positive, T.AddHours(5)), Label(T.AddHours(20), sixHours, 5, 7));
    }

    [Fact]
    public void Under_censoring_a_prediction_after_the_first_event_is_not_evaluated()
    {
        var censored = Day with { CensorAfterFirstEvent = true };
        Assert.Equal((OutcomeLabel.Censored, null), Label(T.AddDays(3), censored, -5, 3));
        Assert.Equal((OutcomeLabel.Positive, T.AddHours(3)), Label(T.AddDays(3), Day, -5, 3));
    }

    [Fact]
    public void The_outcome_selects_the_events_that_count()
    {
        Assert.True(new LabelDefinition("any", 24, false).Matches(Event("NAUSEA", Severity.Mild)));
        Assert.True(new LabelDefinition("serious", 24, false).Matches(Event("NAUSEA", Severity.Severe)));
        Assert.True(new LabelDefinition("serious", 24, false).Matches(Event("NAUSEA", Severity.Mild, serious: true)));
        Assert.False(new LabelDefinition("serious", 24, false).Matches(Event("SEPSIS", Severity.Moderate)));
        Assert.True(new LabelDefinition("SEPSIS", 24, false).Matches(Event("sepsis", Severity.Mild)));
        Assert.False(new LabelDefinition("SEPSIS", 24, false).Matches(Event("NAUSEA", Severity.Severe)));
    }

    private static AdverseEvent Event(string term, Severity severity, bool serious = false, DateTimeOffset? onset = null) =>
        new(Patient, term, severity, serious, DrugRelation.Possible, onset ?? T);
}
