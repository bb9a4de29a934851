using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClinicalTrials.TestSupport;

/// <summary>
/// Clinical messages in the wire contract, with identities unique to each test, and the HTTP bodies that carry them.
/// Test projects import it with a global <c>using static</c>.
/// </summary>
public static class TestMessages
{
    public static string NewPatientId() => "PT" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public static string NewSiteId() => "S" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();

    public static JsonObject Vitals(string? patientId = null, string? siteId = null, double heartRate = 72, Guid? messageId = null, DateTimeOffset? at = null) => new()
    {
        ["message_id"] = (messageId ?? Guid.NewGuid()).ToString(),
        ["timestamp"] = (at ?? DateTimeOffset.UtcNow.AddMinutes(-10)).ToString("O"),
        ["study_phase"] = "Phase II",
        ["site_id"] = siteId ?? NewSiteId(),
        ["vital_signs"] = new JsonObject
        {
            ["patient_id"] = patientId ?? NewPatientId(),
            ["systolic_bp"] = 122,
            ["diastolic_bp"] = 79,
            ["heart_rate"] = heartRate,
        },
    };

    /// <summary>Vital signs at a given time, the argument order the grain tests' histories read best in.</summary>
    public static JsonObject Vitals(string patientId, string siteId, DateTimeOffset at, double heartRate, Guid? messageId = null) =>
        Vitals(patientId, siteId, heartRate, messageId, at);

    /// <summary>Vital signs with every sign measured (the lake's silver rows and the offline features fill every column).</summary>
    public static JsonObject AllVitals(string patientId, string siteId, DateTimeOffset at, double heartRate = 80, double systolic = 120, double diastolic = 80,
        Guid? messageId = null)
    {
        var message = Vitals(patientId, siteId, heartRate, messageId, at);
        var vitals = message["vital_signs"]!.AsObject();
        vitals["systolic_bp"] = systolic;
        vitals["diastolic_bp"] = diastolic;
        vitals["temperature_celsius"] = 36.8;
        vitals["oxygen_saturation"] = 97;
        vitals["respiratory_rate"] = 16;
        return message;
    }

    /// <summary>Vital signs whose only value is the heart rate given: one outside its possible range rejects the message.</summary>
    public static JsonObject HeartRateOnly(double heartRate, string? siteId = null, string? patientId = null, DateTimeOffset? at = null, Guid? messageId = null)
    {
        var message = Vitals(patientId, siteId, heartRate, messageId, at);
        message["vital_signs"]!.AsObject().Remove("systolic_bp");
        message["vital_signs"]!.AsObject().Remove("diastolic_bp");
        return message;
    }

    /// <summary>Vital signs whose only value is impossible: the whole message is rejected (docs/labs.md).</summary>
    public static JsonObject ImpossibleVitals(string patientId, string siteId, DateTimeOffset at, Guid? messageId = null) =>
        HeartRateOnly(400, siteId, patientId, at, messageId);

    public static JsonObject Labs(string patientId, string siteId, DateTimeOffset at, string code, double value, string unit) =>
        Labs(patientId, siteId, at, (code, value, unit));

    public static JsonObject Labs(string patientId, string siteId, DateTimeOffset at, params (string Code, double Value, string Unit)[] results) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = at.ToString("O"),
        ["study_phase"] = "Phase III",
        ["site_id"] = siteId,
        ["lab_results"] = new JsonObject
        {
            ["patient_id"] = patientId,
            ["results"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject { ["test_code"] = r.Code, ["value"] = r.Value, ["unit"] = r.Unit })]),
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

    /// <summary>An adverse event reported at <paramref name="at"/>; with <paramref name="onset"/>, the time it began.</summary>
    public static JsonObject AdverseEvent(string term, string? patientId = null, string? siteId = null, DateTimeOffset? at = null, bool serious = false,
        DateTimeOffset? onset = null)
    {
        var message = AdverseEventReport(term, patientId, siteId, at, serious);
        if (onset is { } began)
        {
            message["adverse_event"]!["onset"] = began.ToString("O");
        }

        return message;
    }

    private static JsonObject AdverseEventReport(string term, string? patientId, string? siteId, DateTimeOffset? at, bool serious) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = (at ?? DateTimeOffset.UtcNow.AddMinutes(-10)).ToString("O"),
        ["study_phase"] = "Phase II",
        ["site_id"] = siteId ?? NewSiteId(),
        ["adverse_event"] = new JsonObject
        {
            ["patient_id"] = patientId ?? NewPatientId(),
            ["event_term"] = term,
            ["severity"] = serious ? "SEVERE" : "MILD",
            ["serious"] = serious,
            ["relation_to_study_drug"] = "UNLIKELY",
        },
    };

    /// <summary>An adverse event at a given time, the argument order the grain tests' histories read best in.</summary>
    public static JsonObject AdverseEvent(string patientId, string siteId, DateTimeOffset at, bool serious) =>
        AdverseEvent("Nausea", patientId, siteId, at, serious);

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

    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Unicode goes on the wire as UTF-8, not as \u escapes, as most clients send it.</summary>
    public static StringContent Json(JsonNode body) => Json(body.ToJsonString(Wire));

    public static StringContent Ndjson(IEnumerable<string> lines) =>
        new(string.Join("\n", lines) + "\n", Encoding.UTF8, new MediaTypeHeaderValue("application/x-ndjson"));
}
