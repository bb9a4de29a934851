using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Models.Tests.Metadata;

/// <summary>The one place labels are derived: outcome matching, the horizon's bounds, censoring after the first event.</summary>
public sealed class OutcomeTimelineTests
{
    private static readonly DateTimeOffset Onset = new(2025, 3, 8, 12, 0, 0, TimeSpan.Zero);

    private static readonly AdverseEvent[] Events =
    [
        new("PTAAAAAAAA", "SEPSIS", Severity.Severe, true, DrugRelation.NotRelated, Onset),
        new("PTAAAAAAAA", "Nausea", Severity.Mild, false, DrugRelation.Possible, Onset.AddHours(-30)),
        new("PTBBBBBBBB", "Rash", Severity.Moderate, false, DrugRelation.Possible, Onset),
    ];

    [Fact]
    public void An_hour_is_positive_when_a_matching_onset_lies_in_the_horizon_after_it()
    {
        var sepsis6 = new OutcomeTimeline(new LabelDefinition("sepsis", 6, CensorAfterFirstEvent: false), Events);

        Assert.False(sepsis6.At("PTAAAAAAAA", Onset.AddHours(-7)));
        Assert.True(sepsis6.At("PTAAAAAAAA", Onset.AddHours(-6)));  // (t, t + 6 h] includes t + 6 h
        Assert.True(sepsis6.At("PTAAAAAAAA", Onset.AddHours(-1)));
        Assert.False(sepsis6.At("PTAAAAAAAA", Onset));              // an onset at t is not after t
        Assert.False(sepsis6.At("PTBBBBBBBB", Onset.AddHours(-1))); // another term
        Assert.False(sepsis6.At("PTCCCCCCCC", Onset.AddHours(-1))); // no event at all
    }

    [Fact]
    public void The_first_onset_is_the_earliest_matching_one_and_null_without_one()
    {
        var any = new OutcomeTimeline(new LabelDefinition("any", 6, CensorAfterFirstEvent: true), Events);
        var sepsis = new OutcomeTimeline(new LabelDefinition("SEPSIS", 6, CensorAfterFirstEvent: true), Events);

        Assert.Equal(Onset.AddHours(-30), any.FirstOnset("PTAAAAAAAA"));
        Assert.Equal(Onset, sepsis.FirstOnset("PTAAAAAAAA"));
        Assert.Null(sepsis.FirstOnset("PTBBBBBBBB"));
        Assert.Null(any.FirstOnset("PTCCCCCCCC"));
    }

    [Fact]
    public void With_censoring_hours_at_or_after_the_first_matching_onset_are_left_out()
    {
        var any24 = new OutcomeTimeline(new LabelDefinition("any", 24, CensorAfterFirstEvent: true), Events);
        var sepsis24 = new OutcomeTimeline(new LabelDefinition("SEPSIS", 24, CensorAfterFirstEvent: true), Events);

        Assert.Null(any24.At("PTAAAAAAAA", Onset.AddHours(-30)));     // the nausea was first
        Assert.True(any24.At("PTAAAAAAAA", Onset.AddHours(-31)));
        Assert.False(sepsis24.At("PTAAAAAAAA", Onset.AddHours(-30))); // for sepsis the nausea does not count: not censored
        Assert.True(sepsis24.At("PTAAAAAAAA", Onset.AddHours(-20)));
        Assert.Null(sepsis24.At("PTAAAAAAAA", Onset));
        Assert.Null(sepsis24.At("PTAAAAAAAA", Onset.AddHours(5)));
    }

    [Fact]
    public void Serious_means_flagged_serious_or_severe()
    {
        var serious = new OutcomeTimeline(new LabelDefinition("serious", 48, false), Events);

        Assert.True(serious.At("PTAAAAAAAA", Onset.AddHours(-1)));
        Assert.False(serious.At("PTBBBBBBBB", Onset.AddHours(-1)));
        Assert.Equal(1, serious.PatientsWithEvent);
    }

    [Theory]
    [InlineData("any", 24, "adverse-event-24h")]
    [InlineData("serious", 12, "serious-adverse-event-12h")]
    [InlineData("SEPSIS", 6, "sepsis-6h")]
    [InlineData("Acute kidney injury", 48, "acute-kidney-injury-48h")]
    public void The_model_name_carries_outcome_and_horizon(string outcome, int hours, string name) =>
        Assert.Equal(name, new LabelDefinition(outcome, hours, true).ModelName);

    [Theory]
    [InlineData(0)]
    [InlineData(49)]
    public void A_horizon_outside_1_to_48_hours_is_refused(int hours) =>
        Assert.Contains("horizon_hours", new LabelDefinition("any", hours, true).Problem(), StringComparison.Ordinal);
}
