using System.Text.Json.Nodes;

namespace ClinicalTrials.Grains.Tests;

/// <summary>Clinical messages in the wire contract, with identities unique to each test.</summary>
internal static class TestMessages
{
    public static string NewPatientId() => "PT" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public static string NewSiteId() => "S" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();

    public static JsonObject Vitals(string patientId, string siteId, DateTimeOffset at, double heartRate, Guid? messageId = null) => new()
    {
        ["message_id"] = (messageId ?? Guid.NewGuid()).ToString(),
        ["timestamp"] = at.ToString("O"),
        ["study_phase"] = "Phase III",
        ["site_id"] = siteId,
        ["vital_signs"] = new JsonObject
        {
            ["patient_id"] = patientId,
            ["systolic_bp"] = 124,
            ["diastolic_bp"] = 78,
            ["heart_rate"] = heartRate,
        },
    };

    public static JsonObject Labs(string patientId, string siteId, DateTimeOffset at, string code, double value, string unit) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = at.ToString("O"),
        ["study_phase"] = "Phase III",
        ["site_id"] = siteId,
        ["lab_results"] = new JsonObject
        {
            ["patient_id"] = patientId,
            ["results"] = new JsonArray(new JsonObject { ["test_code"] = code, ["value"] = value, ["unit"] = unit }),
        },
    };

    public static Guid IdOf(JsonObject message) => Guid.Parse((string)message["message_id"]!);
}
