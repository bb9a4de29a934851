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

    /// <summary>Vital signs whose only value is impossible: the whole message is rejected (docs/labs.md).</summary>
    public static JsonObject ImpossibleVitals(string patientId, string siteId, DateTimeOffset at, Guid? messageId = null)
    {
        var message = Vitals(patientId, siteId, at, 400, messageId);
        message["vital_signs"] = new JsonObject { ["patient_id"] = patientId, ["heart_rate"] = 400 };
        return message;
    }

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

    public static JsonObject Demographics(string patientId, string siteId, DateTimeOffset at, int age) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = at.ToString("O"),
        ["study_phase"] = "Phase III",
        ["site_id"] = siteId,
        ["patient_demographics"] = new JsonObject
        {
            ["patient_id"] = patientId,
            ["age"] = age,
            ["gender"] = "F",
            ["weight_kg"] = 64.5,
            ["height_cm"] = 168,
            ["enrollment_date"] = at.AddDays(-30).ToString("yyyy-MM-dd"),
            ["trial_arm"] = "A",
        },
    };

    public static JsonObject AdverseEvent(string patientId, string siteId, DateTimeOffset at, bool serious) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = at.ToString("O"),
        ["study_phase"] = "Phase III",
        ["site_id"] = siteId,
        ["adverse_event"] = new JsonObject
        {
            ["patient_id"] = patientId,
            ["event_term"] = "Nausea",
            ["severity"] = serious ? "SEVERE" : "MILD",
            ["serious"] = serious,
            ["relation_to_study_drug"] = "POSSIBLE",
        },
    };

    /// <summary>A day of one patient's history, in arrival order: vitals, labs, demographics, an adverse event, late and repeated messages.</summary>
    public static List<string> History(string patientId, string siteId, DateTimeOffset end)
    {
        var start = end.AddHours(-24);
        var messages = new List<string> { Demographics(patientId, siteId, start, 61).ToJsonString() };
        for (var hour = 0; hour < 24; hour += 2)
        {
            messages.Add(Vitals(patientId, siteId, start.AddHours(hour).AddSeconds(17), 70 + hour).ToJsonString());
            messages.Add(Labs(patientId, siteId, start.AddHours(hour).AddMinutes(5), "GLUC", 5 + (hour / 10.0), "mmol/L").ToJsonString());
        }

        messages.Add(AdverseEvent(patientId, siteId, end.AddHours(-3), serious: true).ToJsonString());
        messages.Add(Vitals(patientId, siteId, end.AddHours(-20).AddMinutes(7), 131).ToJsonString()); // late: lands in its own windows
        messages.Add(messages[3]); // a redelivery
        return messages;
    }

    public static Guid IdOf(JsonObject message) => Guid.Parse((string)message["message_id"]!);
}
