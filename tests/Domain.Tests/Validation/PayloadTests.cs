using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

public sealed class PayloadTests
{
    [Fact]
    public void Valid_vital_signs_are_read_with_their_envelope()
    {
        var json = Vitals();
        var result = Parse(json);

        AssertValid(result);
        var message = result.Message!;
        Assert.Equal(Guid.Parse((string)json["message_id"]!), message.MessageId);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero), message.Timestamp);
        Assert.Equal(StudyPhase.PhaseII, message.StudyPhase);
        Assert.Equal("SITE001", message.SiteId);
        Assert.Equal("PT12AB34CD", message.PatientId);
        Assert.Equal(PayloadType.VitalSigns, message.PayloadType);
        Assert.Equal(new VitalSigns("PT12AB34CD", 120, 80, 72, 36.8, 98, 16), message.Payload);
        Assert.Empty(message.Flags);
    }

    [Fact]
    public void Vital_signs_need_only_one_measurement()
    {
        var json = Vitals();
        var vitals = json["vital_signs"]!.AsObject();
        foreach (var name in new[] { "systolic_bp", "diastolic_bp", "temperature_celsius", "oxygen_saturation", "respiratory_rate" })
        {
            vitals.Remove(name);
        }

        var result = Parse(json);

        AssertValid(result);
        Assert.Equal(new VitalSigns("PT12AB34CD", null, null, 72, null, null, null), result.Message!.Payload);
    }

    [Fact]
    public void Valid_demographics_are_read()
    {
        var result = Parse(Demographics());

        AssertValid(result);
        Assert.Equal(
            new PatientDemographics("PT12AB34CD", 54, Gender.Female, 68.5, 165, new DateOnly(2025, 11, 3), "TREATMENT_A"),
            result.Message!.Payload);
    }

    [Fact]
    public void Valid_lab_results_are_read_in_order()
    {
        var result = Parse(Labs(("GLUC", 95, "mg/dL"), ("HGB", 14.2, "g/dL"), ("k", 4.1, "mmol/L")));

        AssertValid(result);
        var labs = Assert.IsType<LabResults>(result.Message!.Payload);
        Assert.Equal(["GLUC", "HGB", "K"], labs.Results.Select(r => r.TestCode));
        Assert.Equal(new LabResult("HGB", 14.2, "g/dL", 14.2, "g/dL"), labs.Results[1]);
    }

    [Fact]
    public void Valid_adverse_event_is_read()
    {
        var result = Parse(AdverseEvent());

        AssertValid(result);
        Assert.Equal(
            new AdverseEvent("PT12AB34CD", "Headache", Severity.Moderate, false, DrugRelation.Possible, new DateTimeOffset(2026, 2, 28, 22, 15, 0, TimeSpan.Zero)),
            result.Message!.Payload);
    }

    [Fact]
    public void Adverse_event_without_onset_starts_at_the_message_timestamp()
    {
        var json = AdverseEvent();
        json["adverse_event"]!.AsObject().Remove("onset");

        var result = Parse(json);

        AssertValid(result);
        Assert.Equal(result.Message!.Timestamp, Assert.IsType<AdverseEvent>(result.Message.Payload).Onset);
    }

    [Theory]
    [InlineData("Phase I", StudyPhase.PhaseI)]
    [InlineData("phase 3", StudyPhase.PhaseIII)]
    [InlineData(" Phase IV ", StudyPhase.PhaseIV)]
    public void Study_phase_spellings_are_accepted(string wire, StudyPhase expected)
    {
        var json = Vitals();
        json["study_phase"] = wire;

        var result = Parse(json);

        AssertValid(result);
        Assert.Equal(expected, result.Message!.StudyPhase);
    }

    [Fact]
    public void Unknown_study_phase_is_rejected()
    {
        var json = Vitals();
        json["study_phase"] = "Phase V";

        AssertViolation(Parse(json), "study_phase", "enum");
    }

    [Fact]
    public void Unknown_severity_is_rejected()
    {
        var json = AdverseEvent();
        json["adverse_event"]!["severity"] = "CATASTROPHIC";

        AssertViolation(Parse(json), "adverse_event.severity", "enum");
    }
}
