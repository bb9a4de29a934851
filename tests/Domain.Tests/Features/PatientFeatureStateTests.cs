using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Features.TestMessages;

namespace ClinicalTrials.Domain.Tests.Features;

public sealed class PatientFeatureStateTests
{
    private static PatientFeatureState StateWith(params ClinicalMessage[] messages)
    {
        var state = new PatientFeatureState();
        foreach (var message in messages)
        {
            state.Apply(message);
        }

        return state;
    }

    [Fact]
    public void New_state_has_zero_counts_and_missing_values()
    {
        var vector = new PatientFeatureState().Current;

        Assert.Null(vector.AsOf);
        Assert.Equal(0, vector["heart_rate_count_24h"]);
        Assert.True(double.IsNaN(vector["heart_rate_mean_24h"]));
        Assert.True(double.IsNaN(vector["heart_rate_last"]));
        Assert.Equal(0, vector["ae_count"]);
        Assert.Equal(0, vector["has_demographics"]);
        Assert.True(double.IsNaN(vector["age_years"]));
    }

    [Fact]
    public void Window_statistics_match_hand_computed_values()
    {
        var vector = StateWith(
            Vitals(T0, heartRate: 60),
            Vitals(T0.AddMinutes(30), heartRate: 70),
            Vitals(T0.AddMinutes(59), heartRate: 80.5)).Current;

        // Least squares over (0, 60), (30, 70), (59, 80.5) in minutes, per hour.
        double[] t = [0, 30, 59], v = [60, 70, 80.5];
        var (mt, mv) = (t.Average(), v.Average());
        Assert.Equal(3, vector["heart_rate_count_1h"]);
        Assert.Equal(mv, vector["heart_rate_mean_1h"], 12);
        Assert.Equal(60, vector["heart_rate_min_1h"]);
        Assert.Equal(80.5, vector["heart_rate_max_1h"]);
        Assert.Equal(Math.Sqrt(v.Sum(x => (x - mv) * (x - mv)) / 2), vector["heart_rate_std_1h"], 12);
        var slope = t.Zip(v, (x, y) => (x - mt) * (y - mv)).Sum() / t.Sum(x => (x - mt) * (x - mt)) * 60;
        Assert.Equal(slope, vector["heart_rate_slope_per_hour_1h"], 9);
    }

    [Fact]
    public void Extremes_are_rescanned_after_the_minimum_leaves_even_when_a_value_arrives_first()
    {
        var state = StateWith(Vitals(T0, heartRate: 50), Vitals(T0.AddMinutes(30), heartRate: 90), Vitals(T0.AddMinutes(50), heartRate: 70));

        state.AdvanceTo(T0.AddMinutes(70)); // 50 leaves the 1h window, so its minimum is stale
        state.Apply(Vitals(T0.AddMinutes(75), heartRate: 60)); // and a new value arrives before anything reads it

        Assert.Equal(60, state.Current["heart_rate_min_1h"]);
        Assert.Equal(90, state.Current["heart_rate_max_1h"]);
        Assert.Equal(50, state.Current["heart_rate_min_6h"]);
    }

    [Fact]
    public void Window_covers_the_hour_ending_at_t_and_excludes_its_start()
    {
        var vector = StateWith(Vitals(T0, heartRate: 60), Vitals(T0.AddHours(1), heartRate: 80)).Current;

        Assert.Equal(1, vector["heart_rate_count_1h"]);
        Assert.Equal(80, vector["heart_rate_mean_1h"]);
        Assert.Equal(2, vector["heart_rate_count_6h"]);
    }

    [Fact]
    public void Late_event_lands_in_its_own_window()
    {
        var state = StateWith(Vitals(T0, heartRate: 60), Vitals(T0.AddHours(5), heartRate: 90));

        state.Apply(Vitals(T0.AddHours(4.5), heartRate: 100));

        var vector = state.Current;
        Assert.Equal(T0.AddHours(5), vector.AsOf);
        Assert.Equal(2, vector["heart_rate_count_1h"]);
        Assert.Equal(95, vector["heart_rate_mean_1h"]);
        Assert.Equal(3, vector["heart_rate_count_6h"]);
        Assert.Equal(90, vector["heart_rate_last"]);
    }

    [Fact]
    public void Duplicate_message_is_applied_once()
    {
        var vitals = Vitals(T0, heartRate: 72);
        var adverse = Adverse(T0.AddMinutes(1));
        var state = StateWith(vitals, adverse);

        Assert.False(state.Apply(vitals));
        Assert.False(state.Apply(adverse));

        Assert.Equal(1, state.Current["heart_rate_count_1h"]);
        Assert.Equal(1, state.Current["ae_count"]);
    }

    [Fact]
    public void Two_partial_vital_messages_at_the_same_second_make_one_record()
    {
        var vector = StateWith(Vitals(T0, heartRate: 72), Vitals(T0, systolic: 120, diastolic: 80)).Current;

        Assert.Equal(1, vector["vital_records_24h"]);
        Assert.Equal(1, vector["heart_rate_count_1h"]);
        Assert.Equal(1, vector["systolic_bp_count_1h"]);
        Assert.Equal(40, vector["pulse_pressure"]);
    }

    [Fact]
    public void Advancing_time_slides_windows_and_grows_hours_since_last()
    {
        var state = StateWith(Vitals(T0, heartRate: 60), Vitals(T0.AddHours(2), heartRate: 70));

        state.AdvanceTo(T0.AddHours(6.5));

        var vector = state.Current;
        Assert.Equal(0, vector["heart_rate_count_1h"]);
        Assert.Equal(1, vector["heart_rate_count_6h"]);
        Assert.Equal(2, vector["heart_rate_count_24h"]);
        Assert.Equal(4.5, vector["heart_rate_hours_since_last"]);
        Assert.Equal(70, vector["heart_rate_last"]);
    }

    [Fact]
    public void Events_older_than_the_longest_window_still_update_last_value_and_baseline()
    {
        var state = StateWith(Labs(T0.AddDays(3), ("WBC", 9)), Labs(T0.AddDays(5), ("GLUC", 100)));

        state.Apply(Labs(T0.AddDays(4), ("WBC", 15), ("GLUC", 80)));
        state.Apply(Labs(T0, ("WBC", 6)));

        var vector = state.Current;
        Assert.Equal(0, vector["wbc_count_24h"]);
        Assert.Equal(15, vector["wbc_last"]);
        Assert.Equal(24, vector["wbc_hours_since_last"]);
        Assert.Equal(10, vector["wbc_baseline"]);
        Assert.Equal(5, vector["wbc_delta_from_baseline"]);
        Assert.Equal(100, vector["gluc_last"]);
    }

    [Fact]
    public void Baseline_is_the_mean_of_the_first_five_measurements_by_timestamp()
    {
        var state = new PatientFeatureState();
        for (var i = 1; i <= 6; i++)
        {
            state.Apply(Vitals(T0.AddHours(i), heartRate: 60 + i));
        }

        Assert.Equal(63, state.Current["heart_rate_baseline"]);

        state.Apply(Vitals(T0, heartRate: 50));

        Assert.Equal((50 + 61 + 62 + 63 + 64) / 5.0, state.Current["heart_rate_baseline"]);
        Assert.Equal(66 - 60, state.Current["heart_rate_delta_from_baseline"]);
    }

    [Fact]
    public void Point_in_time_vector_ignores_later_events()
    {
        var history = new[]
        {
            Vitals(T0, heartRate: 70),
            Vitals(T0.AddHours(2), heartRate: 120),
            Adverse(T0.AddHours(3), Severity.Severe, serious: true),
            Vitals(T0.AddHours(1), heartRate: 80),
        };

        var vector = FeatureReplay.VectorAt(history, T0.AddHours(1.5));

        Assert.Equal(T0.AddHours(1.5), vector.AsOf);
        Assert.Equal(80, vector["heart_rate_last"]);
        Assert.Equal(2, vector["heart_rate_count_6h"]);
        Assert.Equal(0, vector["ae_count"]);
    }

    [Fact]
    public void Event_a_fraction_of_a_second_after_t_is_not_used()
    {
        var vector = FeatureReplay.VectorAt([Vitals(T0.AddMilliseconds(500), heartRate: 70)], T0);

        Assert.Equal(0, vector["heart_rate_count_24h"]);
    }

    [Fact]
    public void Hourly_replay_gives_one_vector_per_hour()
    {
        var vectors = FeatureReplay.Hourly([Vitals(T0.AddMinutes(10), heartRate: 70), Vitals(T0.AddHours(3), heartRate: 90)]).ToList();

        Assert.Equal([T0.AddHours(1), T0.AddHours(2), T0.AddHours(3)], vectors.Select(v => v.AsOf!.Value));
        Assert.Equal(1, vectors[0]["heart_rate_count_1h"]);
        Assert.Equal(0, vectors[1]["heart_rate_count_1h"]);
        Assert.Equal(90, vectors[2]["heart_rate_last"]);
    }
}
