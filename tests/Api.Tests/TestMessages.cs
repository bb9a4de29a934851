using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClinicalTrials.Api.Tests;

/// <summary>Clinical messages in the wire contract, with identities unique to each test, and HTTP helpers.</summary>
internal static class TestMessages
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

    /// <summary>Vital signs whose only value is the heart rate given: one outside its possible range rejects the message.</summary>
    public static JsonObject HeartRateOnly(double heartRate, string? siteId = null, string? patientId = null, DateTimeOffset? at = null)
    {
        var message = Vitals(patientId, siteId, heartRate, at: at);
        message["vital_signs"]!.AsObject().Remove("systolic_bp");
        message["vital_signs"]!.AsObject().Remove("diastolic_bp");
        return message;
    }

    public static JsonObject AdverseEvent(string term, string? patientId = null, string? siteId = null) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToString("O"),
        ["study_phase"] = "Phase II",
        ["site_id"] = siteId ?? NewSiteId(),
        ["adverse_event"] = new JsonObject
        {
            ["patient_id"] = patientId ?? NewPatientId(),
            ["event_term"] = term,
            ["severity"] = "MILD",
            ["serious"] = false,
            ["relation_to_study_drug"] = "UNLIKELY",
        },
    };

    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Guid IdOf(JsonObject message) => Guid.Parse((string)message["message_id"]!);

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Unicode goes on the wire as UTF-8, not as \u escapes, as most clients send it.</summary>
    public static StringContent Json(JsonNode body) => Json(body.ToJsonString(Wire));

    public static StringContent Ndjson(IEnumerable<string> lines) =>
        new(string.Join("\n", lines) + "\n", Encoding.UTF8, new MediaTypeHeaderValue("application/x-ndjson"));

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status and, for any error, an RFC 9457 problem; never a 500.</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        if (status >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>(field, rule) of every entry of a problem's <c>violations</c>.</summary>
    public static List<(string Field, string Rule)> Violations(this JsonElement problem) =>
        problem.GetProperty("violations").EnumerateArray()
            .Select(v => (v.GetProperty("field").GetString()!, v.GetProperty("rule").GetString()!))
            .ToList();
}
