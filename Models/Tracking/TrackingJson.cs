using System.Text.Json;

namespace ClinicalTrials.Models.Tracking;

/// <summary>The dictionaries of a run are stored as JSON text (jsonb in PostgreSQL).</summary>
internal static class TrackingJson
{
    private static readonly JsonSerializerOptions Options = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static IReadOnlyDictionary<string, TValue> Read<TValue>(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, TValue>>(json, Options) ?? [];
}
