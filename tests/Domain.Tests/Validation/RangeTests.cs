using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

public sealed class RangeTests
{
    [Theory]
    [InlineData("systolic_bp", 39)]
    [InlineData("systolic_bp", 301)]
    [InlineData("diastolic_bp", 19)]
    [InlineData("heart_rate", 19)]
    [InlineData("heart_rate", 301)]
    [InlineData("temperature_celsius", 24.9)]
    [InlineData("temperature_celsius", 45.1)]
    [InlineData("oxygen_saturation", 49)]
    [InlineData("oxygen_saturation", 100.5)]
    [InlineData("respiratory_rate", 3)]
    [InlineData("respiratory_rate", 71)]
    public void Impossible_vital_sign_rejects_that_value_only(string field, double value)
    {
        var json = Vitals();
        json["vital_signs"]![field] = value;
        if (field == "diastolic_bp")
        {
            json["vital_signs"]!.AsObject().Remove("systolic_bp");
        }

        var result = Parse(json);

        AssertValid(result);
        var issue = Assert.Single(result.Message!.ResultIssues);
        Assert.Equal(($"vital_signs.{field}", "range"), (issue.Field, issue.Rule));
        var vitals = Assert.IsType<VitalSigns>(result.Message.Payload);
        Assert.Equal(field == "heart_rate" ? 16 : 72, field == "heart_rate" ? vitals.RespiratoryRate : vitals.HeartRate);
    }

    [Fact]
    public void Vital_signs_whose_every_value_is_impossible_are_rejected()
    {
        var json = Envelope("vital_signs", new JsonObject { ["patient_id"] = "PT12AB34CD", ["heart_rate"] = 400, ["etco2"] = 200 });

        var result = Parse(json);

        AssertViolation(result, "vital_signs.heart_rate", "range");
        AssertViolation(result, "vital_signs.etco2", "range");
    }

    [Fact]
    public void Measured_mean_arterial_pressure_and_etco2_are_kept()
    {
        var json = Envelope("vital_signs", new JsonObject { ["patient_id"] = "PT12AB34CD", ["mean_arterial_pressure"] = 65, ["etco2"] = 0 });

        var vitals = Assert.IsType<VitalSigns>(Parse(json).Message!.Payload);

        Assert.Equal((65.0, 0.0), (vitals.MeanArterialPressure, vitals.EndTidalCo2));
    }

    [Theory]
    [InlineData("age", 121)]
    [InlineData("age", -1)]
    [InlineData("weight_kg", 0.5)]
    [InlineData("weight_kg", 501)]
    [InlineData("height_cm", 29)]
    [InlineData("height_cm", 273)]
    public void Impossible_demographic_is_rejected(string field, double value)
    {
        var json = Demographics();
        json["patient_demographics"]![field] = value;

        AssertViolation(Parse(json), $"patient_demographics.{field}", "range");
    }

    [Theory]
    [InlineData("GLUC", 2001, "mg/dL")]
    [InlineData("GLUC", 5, "mg/dL")]
    [InlineData("GLUC", 150, "mmol/L")]
    [InlineData("K", 13, "mmol/L")]
    [InlineData("CREAT", 3000, "umol/L")]
    public void Impossible_lab_value_is_rejected_after_conversion(string code, double value, string unit)
    {
        AssertViolation(Parse(Labs((code, value, unit))), "lab_results.results[0].value", "range");
    }

    [Fact]
    public void Boundary_values_of_the_possible_range_are_accepted()
    {
        var json = Vitals();
        json["vital_signs"]!["systolic_bp"] = 300;
        json["vital_signs"]!["diastolic_bp"] = 20;
        json["vital_signs"]!["heart_rate"] = 20;
        json["vital_signs"]!["oxygen_saturation"] = 100;

        AssertValid(Parse(json));
    }

    [Fact]
    public void Abnormal_but_possible_vital_signs_are_accepted_and_flagged()
    {
        var json = Vitals();
        json["vital_signs"]!["heart_rate"] = 180;
        json["vital_signs"]!["oxygen_saturation"] = 88;
        json["vital_signs"]!["temperature_celsius"] = 39.5;

        var result = Parse(json);

        AssertValid(result);
        Assert.Equal(
            [
                new AbnormalFlag("vital_signs.heart_rate", 180, AbnormalDirection.High),
                new AbnormalFlag("vital_signs.temperature_celsius", 39.5, AbnormalDirection.High),
                new AbnormalFlag("vital_signs.oxygen_saturation", 88, AbnormalDirection.Low),
            ],
            result.Message!.Flags);
        Assert.Equal(180, Assert.IsType<VitalSigns>(result.Message.Payload).HeartRate);
    }

    [Fact]
    public void Abnormal_lab_value_is_flagged_by_test_code()
    {
        var result = Parse(Labs(("GLUC", 250, "mg/dL"), ("K", 3.0, "mmol/L")));

        AssertValid(result);
        Assert.Equal(
            [new AbnormalFlag("GLUC", 250, AbnormalDirection.High), new AbnormalFlag("K", 3.0, AbnormalDirection.Low)],
            result.Message!.Flags);
    }

    [Fact]
    public void Elderly_patient_is_accepted_and_flagged()
    {
        var json = Demographics();
        json["patient_demographics"]!["age"] = 97;

        var result = Parse(json);

        AssertValid(result);
        Assert.Equal([new AbnormalFlag("patient_demographics.age", 97, AbnormalDirection.High)], result.Message!.Flags);
    }

    [Theory]
    [InlineData(120, 120)]
    [InlineData(110, 130)]
    public void Diastolic_not_below_systolic_is_rejected(double systolic, double diastolic)
    {
        var json = Vitals();
        json["vital_signs"]!["systolic_bp"] = systolic;
        json["vital_signs"]!["diastolic_bp"] = diastolic;

        AssertViolation(Parse(json), "vital_signs.diastolic_bp", "consistency");
    }
}
