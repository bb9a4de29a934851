using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Features.TestMessages;

namespace ClinicalTrials.Domain.Tests.Features;

public sealed class DerivedFeatureTests
{
    private static FeatureVector VectorOf(params ClinicalMessage[] messages) => FeatureReplay.VectorAt(messages, messages.Max(m => m.Timestamp));

    [Fact]
    public void Shock_index_is_heart_rate_over_systolic()
    {
        var vector = VectorOf(Vitals(T0, heartRate: 110, systolic: 100, diastolic: 70));

        Assert.Equal(1.1, vector["shock_index"], 12);
        Assert.Equal(30, vector["pulse_pressure"]);
        Assert.Equal(80, vector["mean_arterial_pressure"], 12);
    }

    [Fact]
    public void Derived_vitals_are_missing_when_an_input_is_older_than_24_hours()
    {
        var vector = VectorOf(Vitals(T0, systolic: 120), Vitals(T0.AddHours(25), heartRate: 80, diastolic: 70));

        Assert.True(double.IsNaN(vector["shock_index"]));
        Assert.True(double.IsNaN(vector["pulse_pressure"]));
        Assert.Equal(120, vector["systolic_bp_last"]);
    }

    [Fact]
    public void Sirs_criteria_count_temperature_heart_rate_respiratory_rate_and_wbc()
    {
        var vector = VectorOf(Vitals(T0, heartRate: 95, temperature: 38.5, respiratory: 18), Labs(T0, ("WBC", 3.5)));

        Assert.Equal(1, vector["sirs_temperature"]);
        Assert.Equal(1, vector["sirs_heart_rate"]);
        Assert.Equal(0, vector["sirs_respiratory_rate"]);
        Assert.Equal(1, vector["sirs_wbc"]);
        Assert.Equal(3, vector["sirs_criteria_met"]);
        Assert.Equal(1, vector["sirs_positive"]);
    }

    [Fact]
    public void Unmeasured_sirs_criterion_is_missing_and_not_met()
    {
        var vector = VectorOf(Vitals(T0, heartRate: 95));

        Assert.True(double.IsNaN(vector["sirs_temperature"]));
        Assert.Equal(1, vector["sirs_criteria_met"]);
        Assert.Equal(0, vector["sirs_positive"]);
    }

    [Fact]
    public void Abnormal_values_are_flagged_and_counted()
    {
        var vector = VectorOf(
            Vitals(T0, heartRate: 120, saturation: 90),
            Vitals(T0.AddMinutes(1), heartRate: 80),
            Vitals(T0.AddMinutes(2), heartRate: 130, saturation: 97));

        Assert.Equal(2, vector["heart_rate_abnormal_count_24h"]);
        Assert.Equal(1, vector["heart_rate_abnormal_last"]);
        Assert.Equal(0, vector["oxygen_saturation_abnormal_last"]);
        Assert.Equal(0, vector["hypoxaemia"]);
        Assert.Equal(1, vector["abnormal_vitals_last"]);
    }

    [Fact]
    public void Adverse_event_history_counts_severity_seriousness_and_recency()
    {
        var vector = VectorOf(
            Adverse(T0, Severity.Severe, serious: true, relation: DrugRelation.Probable),
            Adverse(T0.AddDays(3), Severity.Mild),
            Vitals(T0.AddDays(3).AddHours(6), heartRate: 70));

        Assert.Equal(2, vector["ae_count"]);
        Assert.Equal(1, vector["ae_count_24h"]);
        Assert.Equal(2, vector["ae_count_7d"]);
        Assert.Equal(1, vector["ae_serious_count"]);
        Assert.Equal(1, vector["ae_related_count"]);
        Assert.Equal(3, vector["ae_max_severity"]);
        Assert.Equal(4, vector["ae_severity_sum"]);
        Assert.Equal(6, vector["hours_since_last_ae"]);
    }

    [Fact]
    public void Context_encodes_demographics_study_and_site()
    {
        var vector = VectorOf(
            Demographics(T0, age: 64, gender: Gender.Male, weightKg: 80, heightCm: 200, enrolled: new DateOnly(2026, 2, 26), arm: "Placebo"),
            Vitals(T0.AddHours(12), heartRate: 70));

        Assert.Equal(1, vector["has_demographics"]);
        Assert.Equal(64, vector["age_years"]);
        Assert.Equal([1.0, 0, 0, 0], new[] { "male", "female", "other", "unknown" }.Select(g => vector[$"gender_{g}"]));
        Assert.Equal(20, vector["bmi"], 12);
        Assert.Equal(1, vector["trial_arm_placebo"]);
        Assert.Equal(2, vector["study_phase"]);
        Assert.Equal(3.5, vector["days_since_enrollment"]);
        Assert.InRange(vector["site_bucket"], 0, 1023);
    }

    [Fact]
    public void Site_bucket_is_a_stable_fnv_hash_of_the_site_id()
    {
        var a = VectorOf(Message(T0, new VitalSigns(PatientId, null, null, 70, null, null, null), site: "SITE001"));
        var b = VectorOf(Message(T0, new VitalSigns(PatientId, null, null, 70, null, null, null), site: "SITE002"));

        // FNV-1a 32 of "SITE001" is 0x5BF4BA7D; modulo 1024 that is 637, in every process on every machine.
        Assert.Equal(637, a["site_bucket"]);
        Assert.NotEqual(a["site_bucket"], b["site_bucket"]);
    }
}
