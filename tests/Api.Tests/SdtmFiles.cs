using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace ClinicalTrials.Api.Tests;

/// <summary>Generated Dataset-JSON v1.1 datasets (JSON or NDJSON form) and the helpers the SDTM tests share.</summary>
internal static class SdtmFiles
{
    public static string TestDataDirectory => Path.Combine(AppContext.BaseDirectory, "TestData", "sdtm-cdiscpilot01");

    /// <summary>A dataset with the given columns (all strings unless the value says otherwise) and rows.</summary>
    public static JsonObject Dataset(string domain, string[] columns, params object?[][] rows) => new()
    {
        ["datasetJSONCreationDateTime"] = "2026-11-30T10:00:00",
        ["datasetJSONVersion"] = "1.1.0",
        ["itemGroupOID"] = $"IG.{domain}",
        ["records"] = rows.Length,
        ["name"] = domain,
        ["label"] = domain,
        ["columns"] = new JsonArray([.. columns.Select(c => (JsonNode)new JsonObject
        {
            ["itemOID"] = $"IT.{domain}.{c}", ["name"] = c, ["label"] = c, ["dataType"] = "string",
        })]),
        ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonArray([.. r.Select(v => v is null ? null : JsonValue.Create(v))]))]),
    };

    public static StringContent AsJson(JsonObject dataset) => new(dataset.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>The NDJSON form: the metadata (without rows) on the first line, then one row per line.</summary>
    public static StringContent AsNdjson(JsonObject dataset)
    {
        var rows = (JsonArray)dataset["rows"]!.DeepClone();
        var metadata = (JsonObject)dataset.DeepClone();
        metadata.Remove("rows");
        var lines = new[] { metadata.ToJsonString() }.Concat(rows.Select(r => r!.ToJsonString()));
        return new StringContent(string.Join("\n", lines) + "\n", Encoding.UTF8, new MediaTypeHeaderValue("application/x-ndjson"));
    }

    public static StringContent File(string name) =>
        new(System.IO.File.ReadAllText(Path.Combine(TestDataDirectory, name)), Encoding.UTF8,
            name.EndsWith(".ndjson", StringComparison.Ordinal) ? "application/x-ndjson" : "application/json");

    public static string ImportUrl(string site) => $"/api/import/sdtm?site_id={site}&study_phase=Phase%20II";
}
