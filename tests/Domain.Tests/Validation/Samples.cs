using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Tests.Validation;

/// <summary>Valid messages of each payload type, as mutable JSON, to be broken one field at a time.</summary>
internal static class Samples
{
    /// <summary>The receiver's clock in every parser test.</summary>
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static JsonObject Envelope(string payloadName, JsonObject payload) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = "2026-03-01T11:00:00Z",
        ["study_phase"] = "Phase II",
        ["site_id"] = "SITE001",
        [payloadName] = payload,
    };

    public static JsonObject Vitals() => Envelope("vital_signs", new JsonObject
    {
        ["patient_id"] = "PT12AB34CD",
        ["systolic_bp"] = 120,
        ["diastolic_bp"] = 80,
        ["heart_rate"] = 72,
        ["temperature_celsius"] = 36.8,
        ["oxygen_saturation"] = 98,
        ["respiratory_rate"] = 16,
    });

    public static JsonObject Demographics() => Envelope("patient_demographics", new JsonObject
    {
        ["patient_id"] = "PT12AB34CD",
        ["age"] = 54,
        ["gender"] = "F",
        ["weight_kg"] = 68.5,
        ["height_cm"] = 165,
        ["enrollment_date"] = "2025-11-03",
        ["trial_arm"] = "TREATMENT_A",
    });

    public static JsonObject Labs(params (string Code, double Value, string Unit)[] results) => Envelope("lab_results", new JsonObject
    {
        ["patient_id"] = "PT12AB34CD",
        ["results"] = new JsonArray(results
            .Select(r => (JsonNode)new JsonObject { ["test_code"] = r.Code, ["value"] = r.Value, ["unit"] = r.Unit })
            .ToArray()),
    });

    public static JsonObject AdverseEvent(string term = "Headache") => Envelope("adverse_event", new JsonObject
    {
        ["patient_id"] = "PT12AB34CD",
        ["event_term"] = term,
        ["severity"] = "MODERATE",
        ["serious"] = false,
        ["relation_to_study_drug"] = "POSSIBLE",
        ["onset"] = "2026-02-28T22:15:00Z",
    });

    public static ParseResult Parse(JsonNode message) => Parse(message.ToJsonString());

    public static ParseResult Parse(string json) => ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(json), Now);

    /// <summary>Asserts a rejection that names <paramref name="field"/> with <paramref name="rule"/>.</summary>
    public static void AssertViolation(ParseResult result, string field, string rule)
    {
        Assert.False(result.IsValid);
        Assert.Null(result.Message);
        Assert.True(result.Violations.Any(v => v.Field == field && v.Rule == rule),
            $"Expected {field} ({rule}); got: {string.Join("; ", result.Violations.Select(v => $"{v.Field} ({v.Rule})"))}");
    }

    public static void AssertValid(ParseResult result) =>
        Assert.True(result.IsValid, string.Join("; ", result.Violations.Select(v => $"{v.Field} ({v.Rule}): {v.Message}")));
}
