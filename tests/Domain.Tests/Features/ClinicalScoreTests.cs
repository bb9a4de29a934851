using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Features.TestMessages;

namespace ClinicalTrials.Domain.Tests.Features;

/// <summary>
/// Each score against values worked out by hand from its publication: NEWS2 (Royal College of Physicians 2017),
/// qSOFA (Seymour 2016), SIRS (Bone 1992) and SOFA (Vincent 1996; respiration by SpO2/FiO2 through Rice 2007).
/// </summary>
public sealed class ClinicalScoreTests
{
    private static FeatureVector VectorOf(params ClinicalMessage[] messages) => FeatureReplay.VectorAt(messages, messages.Max(m => m.Timestamp));

    [Fact]
    public void News2_adds_the_points_of_all_six_parameters()
    {
        // RR 22: 2, SpO2 93: 2, on oxygen (FiO2 28 %): 2, systolic 105: 1, pulse 115: 2, temperature 38.5: 1.
        var vector = VectorOf(
            Vitals(T0, heartRate: 115, systolic: 105, temperature: 38.5, saturation: 93, respiratory: 22),
            Labs(T0, ("FIO2", 28)));

        Assert.Equal(10, vector["news2_score"]);
        Assert.Equal(6, vector["news2_components_available"]);
    }

    [Fact]
    public void News2_of_normal_values_on_room_air_is_zero_with_every_component_measured()
    {
        var vector = VectorOf(
            Vitals(T0, heartRate: 70, systolic: 120, temperature: 37, saturation: 97, respiratory: 16),
            Labs(T0, ("FIO2", 21)));

        Assert.Equal(0, vector["news2_score"]);
        Assert.Equal(6, vector["news2_components_available"]);
    }

    [Theory]
    [InlineData(8, 3)]
    [InlineData(9, 1)]
    [InlineData(11, 1)]
    [InlineData(12, 0)]
    [InlineData(20, 0)]
    [InlineData(21, 2)]
    [InlineData(24, 2)]
    [InlineData(25, 3)]
    public void News2_respiratory_rate_bands(double rate, int points) =>
        AssertNews2(Vitals(T0, respiratory: rate), points);

    [Theory]
    [InlineData(91, 3)]
    [InlineData(92, 2)]
    [InlineData(93, 2)]
    [InlineData(94, 1)]
    [InlineData(95, 1)]
    [InlineData(96, 0)]
    public void News2_saturation_bands_of_scale_1(double saturation, int points) =>
        AssertNews2(Vitals(T0, saturation: saturation), points);

    [Theory]
    [InlineData(90, 3)]
    [InlineData(91, 2)]
    [InlineData(100, 2)]
    [InlineData(101, 1)]
    [InlineData(110, 1)]
    [InlineData(111, 0)]
    [InlineData(219, 0)]
    [InlineData(220, 3)]
    public void News2_systolic_pressure_bands(double systolic, int points) =>
        AssertNews2(Vitals(T0, systolic: systolic), points);

    [Theory]
    [InlineData(40, 3)]
    [InlineData(41, 1)]
    [InlineData(50, 1)]
    [InlineData(51, 0)]
    [InlineData(90, 0)]
    [InlineData(91, 1)]
    [InlineData(110, 1)]
    [InlineData(111, 2)]
    [InlineData(130, 2)]
    [InlineData(131, 3)]
    public void News2_pulse_bands(double pulse, int points) =>
        AssertNews2(Vitals(T0, heartRate: pulse), points);

    [Theory]
    [InlineData(35.0, 3)]
    [InlineData(35.1, 1)]
    [InlineData(36.0, 1)]
    [InlineData(36.1, 0)]
    [InlineData(38.0, 0)]
    [InlineData(38.1, 1)]
    [InlineData(39.0, 1)]
    [InlineData(39.1, 2)]
    public void News2_temperature_bands(double temperature, int points) =>
        AssertNews2(Vitals(T0, temperature: temperature), points);

    [Theory]
    [InlineData(21, 0)]
    [InlineData(21.5, 2)]
    [InlineData(40, 2)]
    public void News2_counts_fio2_above_room_air_as_supplemental_oxygen(double fio2, int points) =>
        AssertNews2(Labs(T0, ("FIO2", fio2)), points);

    [Fact]
    public void Scores_without_any_input_are_zero_of_nothing_measured()
    {
        var vector = VectorOf(Labs(T0, ("GLUC", 100)));

        Assert.Equal(0, vector["news2_score"]);
        Assert.Equal(0, vector["news2_components_available"]);
        Assert.Equal(0, vector["qsofa_score"]);
        Assert.Equal(0, vector["qsofa_criteria_available"]);
        Assert.Equal(0, vector["sirs_criteria_met"]);
        Assert.Equal(0, vector["sirs_criteria_available"]);
        Assert.Equal(0, vector["sofa_score"]);
        Assert.Equal(0, vector["sofa_components_available"]);
        foreach (var component in new[] { "respiration", "coagulation", "liver", "cardiovascular", "renal" })
        {
            Assert.True(double.IsNaN(vector[$"sofa_{component}"]), component);
        }

        Assert.True(double.IsNaN(vector["spo2_fio2_ratio"]));
    }

    [Fact]
    public void Inputs_older_than_24_hours_no_longer_count()
    {
        var vector = VectorOf(
            Vitals(T0, systolic: 80, respiratory: 30),
            Labs(T0, ("PLAT", 40)),
            Vitals(T0.AddHours(24), heartRate: 70));

        Assert.Equal(0, vector["qsofa_score"]);
        Assert.Equal(0, vector["qsofa_criteria_available"]);
        Assert.True(double.IsNaN(vector["sofa_coagulation"]));
        Assert.Equal(0, vector["sofa_components_available"]);
        Assert.Equal(1, vector["news2_components_available"]);
    }

    [Theory]
    [InlineData(22, 100, 2)]
    [InlineData(21.9, 100.1, 0)]
    [InlineData(30, 130, 1)]
    [InlineData(12, 85, 1)]
    public void Qsofa_counts_respiratory_rate_of_22_or_more_and_systolic_of_100_or_less(double rate, double systolic, int score)
    {
        var vector = VectorOf(Vitals(T0, systolic: systolic, respiratory: rate));

        Assert.Equal(score, vector["qsofa_score"]);
        Assert.Equal(2, vector["qsofa_criteria_available"]);
    }

    [Fact]
    public void Qsofa_with_one_criterion_measured_says_so()
    {
        var vector = VectorOf(Vitals(T0, respiratory: 24));

        Assert.Equal(1, vector["qsofa_score"]);
        Assert.Equal(1, vector["qsofa_criteria_available"]);
    }

    [Theory]
    [InlineData(18.0, 40.0, 0.0)]
    [InlineData(18.0, 31.0, 1.0)]
    [InlineData(22.0, 40.0, 1.0)]
    [InlineData(null, 31.9, 1.0)]
    [InlineData(null, 32.0, 0.0)]
    public void Sirs_respiratory_criterion_is_a_rate_above_20_or_paco2_below_32(double? rate, double pco2, double met)
    {
        ClinicalMessage[] messages = rate is { } r ? [Vitals(T0, respiratory: r), Labs(T0, ("PCO2", pco2))] : [Labs(T0, ("PCO2", pco2))];
        var vector = VectorOf(messages);

        Assert.Equal(met, vector["sirs_respiratory_rate"]);
        Assert.Equal(met, vector["sirs_criteria_met"]);
        Assert.Equal(1, vector["sirs_criteria_available"]);
    }

    [Fact]
    public void Sirs_counts_the_criteria_it_could_judge()
    {
        var vector = VectorOf(Vitals(T0, heartRate: 95, temperature: 36.5, respiratory: 24), Labs(T0, ("WBC", 11)));

        Assert.Equal(0, vector["sirs_temperature"]);
        Assert.Equal(0, vector["sirs_wbc"]);
        Assert.Equal(2, vector["sirs_criteria_met"]);
        Assert.Equal(1, vector["sirs_positive"]);
        Assert.Equal(4, vector["sirs_criteria_available"]);
    }

    [Theory]
    [InlineData(150, 0)]
    [InlineData(149, 1)]
    [InlineData(100, 1)]
    [InlineData(99, 2)]
    [InlineData(50, 2)]
    [InlineData(49, 3)]
    [InlineData(20, 3)]
    [InlineData(19, 4)]
    public void Sofa_coagulation_from_platelets(double platelets, int points) => AssertSofa("coagulation", Labs(T0, ("PLAT", platelets)), points);

    [Theory]
    [InlineData(1.1, 0)]
    [InlineData(1.2, 1)]
    [InlineData(1.9, 1)]
    [InlineData(2.0, 2)]
    [InlineData(5.9, 2)]
    [InlineData(6.0, 3)]
    [InlineData(11.9, 3)]
    [InlineData(12.0, 4)]
    public void Sofa_liver_from_bilirubin(double bilirubin, int points) => AssertSofa("liver", Labs(T0, ("BILI", bilirubin)), points);

    [Theory]
    [InlineData(1.19, 0)]
    [InlineData(1.2, 1)]
    [InlineData(1.9, 1)]
    [InlineData(2.0, 2)]
    [InlineData(3.4, 2)]
    [InlineData(3.5, 3)]
    [InlineData(4.9, 3)]
    [InlineData(5.0, 4)]
    public void Sofa_renal_from_creatinine(double creatinine, int points) => AssertSofa("renal", Labs(T0, ("CREAT", creatinine)), points);

    [Theory]
    [InlineData(90, 60, 0)] // MAP 70
    [InlineData(89, 60, 1)] // MAP 69.67
    [InlineData(90, 59.9, 1)] // MAP 69.93
    [InlineData(120, 80, 0)]
    public void Sofa_cardiovascular_is_1_for_a_mean_arterial_pressure_below_70(double systolic, double diastolic, int points) =>
        AssertSofa("cardiovascular", Vitals(T0, systolic: systolic, diastolic: diastolic), points);

    [Theory]
    [InlineData(95, 21, 0)] // S/F 452
    [InlineData(96, 30, 1)] // 320
    [InlineData(92.8, 40, 2)] // exactly 232, which 92.8 / 0.4 in floating point puts just below
    [InlineData(92, 40, 3)] // 230
    [InlineData(93, 60, 3)] // 155
    [InlineData(88, 100, 4)] // 88
    public void Sofa_respiration_from_spo2_over_fio2(double saturation, double fio2, int points)
    {
        AssertSofa("respiration", [Vitals(T0, saturation: saturation), Labs(T0, ("FIO2", fio2))], points);
        Assert.Equal(saturation / (fio2 / 100), VectorOf(Vitals(T0, saturation: saturation), Labs(T0, ("FIO2", fio2)))["spo2_fio2_ratio"], 9);
    }

    [Fact]
    public void Sofa_respiration_is_missing_above_97_percent_saturation_where_the_ratio_says_nothing()
    {
        var vector = VectorOf(Vitals(T0, saturation: 98), Labs(T0, ("FIO2", 100)));

        Assert.Equal(98, vector["spo2_fio2_ratio"], 9);
        Assert.True(double.IsNaN(vector["sofa_respiration"]));
        Assert.Equal(0, vector["sofa_components_available"]);
    }

    [Fact]
    public void Sofa_score_adds_the_components_and_counts_them()
    {
        // Respiration S/F 230: 3, platelets 80: 2, bilirubin 2.5: 2, MAP (85 + 2 x 55) / 3 = 65: 1, creatinine 1.5: 1.
        var vector = VectorOf(
            Vitals(T0, systolic: 85, diastolic: 55, saturation: 92),
            Labs(T0, ("FIO2", 40), ("PLAT", 80), ("BILI", 2.5), ("CREAT", 1.5)));

        Assert.Equal(9, vector["sofa_score"]);
        Assert.Equal(5, vector["sofa_components_available"]);
    }

    [Fact]
    public void Sofa_score_of_a_partial_set_counts_only_what_was_measured()
    {
        var vector = VectorOf(Labs(T0, ("PLAT", 80), ("GLUC", 90)));

        Assert.Equal(2, vector["sofa_score"]);
        Assert.Equal(1, vector["sofa_components_available"]);
        Assert.True(double.IsNaN(vector["sofa_renal"]));
    }

    private static void AssertNews2(ClinicalMessage message, int points)
    {
        var vector = VectorOf(message);

        Assert.Equal(points, vector["news2_score"]);
        Assert.Equal(1, vector["news2_components_available"]);
    }

    private static void AssertSofa(string component, ClinicalMessage message, int points) => AssertSofa(component, [message], points);

    private static void AssertSofa(string component, ClinicalMessage[] messages, int points)
    {
        var vector = VectorOf(messages);

        Assert.Equal(points, vector[$"sofa_{component}"]);
        Assert.Equal(points, vector["sofa_score"]);
        Assert.Equal(1, vector["sofa_components_available"]);
    }
}
