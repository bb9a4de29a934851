using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClinicalTrials.Models.Metadata;

/// <summary>The JSON shape of model files and of the model API: snake_case, NaN written as a string (no metric is lost).</summary>
public static class ModelJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static ModelMetadata ReadMetadata(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<ModelMetadata>(json, Options) ?? throw new InvalidDataException("metadata.json is empty.");

    public static byte[] Write<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);
}
