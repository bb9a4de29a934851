using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Tests;

public sealed class ParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static ParseResult Parse(string json) => ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(json), Now);

    [Fact]
    public void Valid_vital_signs_are_accepted()
    {
        var result = Parse("""
            {"message_id":"6f1c3f9e-1c5b-4a53-9d1a-0b0c4c7d2e11","timestamp":"2026-03-01T11:00:00Z","study_phase":"Phase II","site_id":"SITE001",
             "vital_signs":{"patient_id":"PT12AB34CD","systolic_bp":120,"diastolic_bp":80,"heart_rate":72}}
            """);

        Assert.True(result.IsValid, string.Join("; ", result.Violations));
        var vitals = Assert.IsType<VitalSigns>(result.Message!.Payload);
        Assert.Equal(72, vitals.HeartRate);
        Assert.Null(vitals.TemperatureCelsius);
    }
}
