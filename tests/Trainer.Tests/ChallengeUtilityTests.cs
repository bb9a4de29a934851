using ClinicalTrials.Trainer.Evaluation;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>The PhysioNet 2019 utility against values worked out by hand from the challenge's definition.</summary>
public sealed class ChallengeUtilityTests
{
    private static readonly DateTimeOffset Onset = new(2025, 1, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Hour <paramref name="offset"/> relative to the septic patient's onset.</summary>
    private static UtilityHour Septic(int offset, bool alert) => new("PTSEPTIC01", Onset.AddHours(offset), alert, Onset);

    [Theory]
    [InlineData(-20, true, -0.05)]    // more than 12 h early: a false alarm
    [InlineData(-12, true, 0.0)]      // the reward starts at 0
    [InlineData(-9, true, 0.5)]       // (t + 12) / 6
    [InlineData(-6, true, 1.0)]       // the full reward
    [InlineData(-3, true, 2.0 / 3)]   // 1 - (t + 6) / 9
    [InlineData(3, true, 0.0)]
    [InlineData(-9, false, 0.0)]      // a miss before 6 h ahead costs nothing
    [InlineData(-3, false, -2.0 / 3)] // -2 (t + 6) / 9
    [InlineData(3, false, -2.0)]      // the largest penalty, 3 h after onset
    [InlineData(4, true, 0.0)]        // later hours count nothing either way
    [InlineData(4, false, 0.0)]
    public void An_hour_of_a_septic_patient_earns_by_its_distance_from_onset(int offset, bool alert, double expected) =>
        Assert.Equal(expected, ChallengeUtility.Of(Septic(offset, alert)), 12);

    [Fact]
    public void An_alert_for_a_patient_without_onset_costs_five_hundredths_and_silence_nothing()
    {
        Assert.Equal(-0.05, ChallengeUtility.Of(new UtilityHour("PTHEALTHY1", Onset, true, null)), 12);
        Assert.Equal(0, ChallengeUtility.Of(new UtilityHour("PTHEALTHY1", Onset, false, null)), 12);
    }

    [Fact]
    public void The_total_is_normalised_between_never_alerting_and_the_best_alerts()
    {
        // The septic patient's censored hours run from 20 h to 1 h before onset. By hand:
        //   best (alert from 12 h before): (0+1+2+3+4+5+6)/6 + (8+7+6+5+4)/9 = 3.5 + 10/3
        //   never alerting: -(2+4+6+8+10)/9 = -10/3
        //   the model: alerts from 8 h before, (4+5+6)/6 + 10/3 = 2.5 + 10/3, and two false alarms elsewhere, -0.1
        // (2.5 + 10/3 - 0.1 + 10/3) / (3.5 + 10/3 + 10/3) = 9.0666... / 10.1666... = 0.891803...
        var septic = Enumerable.Range(-20, 20).Select(t => Septic(t, alert: t >= -8));
        var healthy = Enumerable.Range(0, 10).Select(h => new UtilityHour("PTHEALTHY1", Onset.AddHours(h), h is 3 or 7, null));

        Assert.Equal((2.5 + 20.0 / 3 - 0.1) / (3.5 + 20.0 / 3), ChallengeUtility.Normalised(septic.Concat(healthy)), 12);
        Assert.Equal(0.891803, ChallengeUtility.Normalised(septic.Concat(healthy)), 6);
    }

    [Fact]
    public void Alerting_on_every_hour_pays_for_the_early_ones()
    {
        // Eight hours more than 12 h early at -0.05 each: (3.5 + 10/3 - 0.4 + 10/3) / (3.5 + 20/3) = 0.960656...
        var always = Enumerable.Range(-20, 20).Select(t => Septic(t, alert: true));

        Assert.Equal(0.960656, ChallengeUtility.Normalised(always), 6);
    }

    [Fact]
    public void The_best_alerts_score_one_and_never_alerting_zero()
    {
        Assert.Equal(1, ChallengeUtility.Normalised(Enumerable.Range(-20, 20).Select(t => Septic(t, alert: t >= -12))), 12);
        Assert.Equal(0, ChallengeUtility.Normalised(Enumerable.Range(-20, 20).Select(t => Septic(t, alert: false))), 12);
    }

    [Fact]
    public void Without_an_onset_in_reach_the_utility_is_undefined()
    {
        var healthy = Enumerable.Range(0, 10).Select(h => new UtilityHour("PTHEALTHY1", Onset.AddHours(h), true, null));
        var tooEarly = Enumerable.Range(-40, 10).Select(t => Septic(t, alert: false));

        Assert.True(double.IsNaN(ChallengeUtility.Normalised(healthy)));
        Assert.True(double.IsNaN(ChallengeUtility.Normalised(tooEarly)));
    }
}
