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

        // A metadata.json without a field (or with null where the record says non-null) is refused here, by name,
        // instead of becoming a record whose nulls fail later in the registry or the model host.
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>Reads a complete metadata.json.</summary>
    /// <exception cref="InvalidDataException">A field is missing, null, malformed or breaks a rule of <see cref="ModelMetadata.Problem"/>; the message names it.</exception>
    public static ModelMetadata ReadMetadata(ReadOnlySpan<byte> json)
    {
        ModelMetadata? metadata;
        try
        {
            metadata = JsonSerializer.Deserialize<ModelMetadata>(json, Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{ModelArtifacts.Metadata} cannot be read: {e.Message}", e);
        }

        if (metadata is null)
        {
            throw new InvalidDataException($"{ModelArtifacts.Metadata} is empty.");
        }

        return metadata.Problem() is { } problem ? throw new InvalidDataException($"{ModelArtifacts.Metadata}: {problem}") : metadata;
    }

    public static byte[] Write<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);
}
