using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClinicalTrials.Api;

/// <summary>The external contract is snake_case JSON, enums included.</summary>
public static class ApiJson
{
    /// <summary>The contract's options, for JSON the gateway writes itself (audit details).</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions();
        Configure(options);
        return options;
    }

    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }
}
