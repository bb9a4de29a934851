using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ClinicalTrials.Api.Tests.Hosting;
using static ClinicalTrials.Api.Tests.SdtmFiles;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// <c>GET /api/export/sdtm</c>: each domain from silver as Dataset-JSON v1.1 that holds to the specification, and the
/// round trip: export, import into an empty platform, export again gives the same datasets.
/// </summary>
public sealed partial class SdtmRoundTripTests
{
    private const string Site = "SITE001";
    private static readonly string[] Domains = ["DM", "VS", "LB", "AE"];

    private static JsonObject[] Study() =>
    [
        Dataset("DM", ["USUBJID", "AGE", "AGEU", "SEX", "ARM", "RFSTDTC", "DMDTC"],
            ["STUDY-001", 64, "YEARS", "F", "Placebo", "2026-11-02", "2026-11-02T09:00"],
            ["STUDY-002", 71, "YEARS", "M", "Drug 10 mg", "2026-11-03", null]),
        Dataset("VS", ["USUBJID", "VSTESTCD", "VSORRES", "VSORRESU", "VSSTRESN", "VSSTRESU", "VSDTC"],
            ["STUDY-001", "SYSBP", "128", "mmHg", 128, "mmHg", "2026-11-20T08:00"],
            ["STUDY-001", "DIABP", "81", "mmHg", 81, "mmHg", "2026-11-20T08:00"],
            ["STUDY-001", "PULSE", "88", "beats/min", 88, "beats/min", "2026-11-20T08:00"],
            ["STUDY-001", "TEMP", "100.4", "F", 38, "C", "2026-11-20T08:00"],
            ["STUDY-001", "OXYSAT", "97", "%", 97, "%", "2026-11-21"],
            ["STUDY-002", "RESP", "18", "breaths/min", 18, "breaths/min", "2026-11-21T10:15:30"]),
        Dataset("LB", ["USUBJID", "LBTESTCD", "LBCAT", "LBORRES", "LBORRESU", "LBSTRESN", "LBSTRESU", "LBDTC"],
            ["STUDY-001", "GLUC", "CHEMISTRY", "5.5", "mmol/L", 99.09, "mg/dL", "2026-11-20T07:30"],
            ["STUDY-001", "CREAT", "CHEMISTRY", "88", "umol/L", 1.0, "mg/dL", "2026-11-20T07:30"],
            ["STUDY-001", "KETONES", "URINALYSIS", "NEGATIVE", null, null, null, "2026-11-20T07:30"],
            ["STUDY-001", "NEWTEST", "CHEMISTRY", "3", "mg/dL", null, null, "2026-11-20T07:30"],
            ["STUDY-002", "HGB", "HEMATOLOGY", "13.1", "g/dL", 131, "g/L", "2026-11-22"]),
        Dataset("AE", ["USUBJID", "AETERM", "AESEV", "AESER", "AEREL", "AESTDTC", "AEDTC"],
            ["STUDY-001", "NAUSEA", "MILD", "N", "POSSIBLY RELATED", "2026-11-20T06:00", "2026-11-20T09:00"],
            ["STUDY-002", "HEADACHE", "MODERATE", "Y", "NONE", "2026-11", null]),
    ];

    private static async Task<Dictionary<string, JsonObject>> ImportThenExportAsync(ClinicalApp app, IEnumerable<JsonObject> datasets)
    {
        var cancellation = TestContext.Current.CancellationToken;
        foreach (var dataset in datasets)
        {
            var report = await (await app.Http.PostAsync(ImportUrl(Site), AsJson(dataset), cancellation)).ExpectAsync(200);
            Assert.True(report.GetProperty("rejected").GetInt32() == 0, report.GetRawText());
        }

        await (await app.Http.PostAsync("/api/pipeline/jobs/bronze-to-silver/run", null, cancellation)).ExpectAsync(200);
        var exports = new Dictionary<string, JsonObject>();
        foreach (var domain in Domains)
        {
            var response = await app.Http.GetAsync($"/api/export/sdtm?domain={domain}&from=2026-11-01&to=2026-11-30", cancellation);
            var text = await response.Content.ReadAsStringAsync(cancellation);
            Assert.True(response.IsSuccessStatusCode, text);
            exports[domain] = JsonNode.Parse(text)!.AsObject();
        }

        return exports;
    }

    [Fact]
    public async Task Export_then_import_into_an_empty_platform_then_export_again_gives_the_same_datasets()
    {
        using var firstData = new DataDirectory();
        using var secondData = new DataDirectory();
        Dictionary<string, JsonObject> first, second;
        await using (var app = await ClinicalApp.StartAsync(firstData.Path))
        {
            first = await ImportThenExportAsync(app, Study());
        }

        await using (var app = await ClinicalApp.StartAsync(secondData.Path))
        {
            second = await ImportThenExportAsync(app, first.Values.Select(d => (JsonObject)d.DeepClone()));
        }

        foreach (var domain in Domains)
        {
            AssertDatasetJson11(first[domain]);
            first[domain].Remove("datasetJSONCreationDateTime");
            second[domain].Remove("datasetJSONCreationDateTime");
            Assert.Equal(first[domain].ToJsonString(), second[domain].ToJsonString());
        }

        // What was stored is what was sent: two subjects, pseudonymised; Fahrenheit as Celsius; lab values standardised beside the ones sent.
        Assert.Equal(2, first["DM"]["records"]!.GetValue<int>());
        var subjects = first["DM"]["rows"]!.AsArray().Select(r => r![2]!.GetValue<string>()).ToList();
        Assert.All(subjects, s => Assert.Matches("^PT[A-Z2-7]{8}$", s));
        var vs = Rows(first["VS"]);
        Assert.Equal(6, vs.Count);
        Assert.Contains(vs, r => r["VSTESTCD"] == "TEMP" && r["VSSTRESN"] == "38" && r["VSSTRESU"] == "C");
        Assert.Contains(vs, r => r["VSTESTCD"] == "HR" && r["VSSTRESN"] == "88");
        var lb = Rows(first["LB"]);
        Assert.Contains(lb, r => r["LBTESTCD"] == "GLUC" && r["LBORRES"] == "5.5" && r["LBORRESU"] == "mmol/L" && r["LBSTRESU"] == "mg/dL" && r["LBLOINC"] == "2345-7");
        Assert.Contains(lb, r => r["LBTESTCD"] == "KETONES" && r["LBSPEC"] == "URINE" && r["LBSTRESC"] == "NEGATIVE");
        Assert.Contains(lb, r => r["LBTESTCD"] == "NEWTEST" && r["LBORRES"] == "3" && r["LBSTRESN"] is null);
        var ae = Rows(first["AE"]);
        Assert.Contains(ae, r => r["AETERM"] == "HEADACHE" && r["AESTDTC"] == "2026-11-01T00:00:00" && r["AEREL"] == "NOT RELATED" && r["AESER"] == "Y");
        // --SEQ counts within each subject, in time order.
        var sequences = vs.GroupBy(r => r["USUBJID"]).Select(g => g.Select(r => int.Parse(r["VSSEQ"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList()).ToList();
        Assert.All(sequences, s => Assert.Equal(Enumerable.Range(1, s.Count), s));
        Assert.Equal([1, 5], sequences.Select(s => s.Count).Order());
        Assert.Equal(["1", "1"], ae.Select(r => r["AESEQ"]!));
    }

    [Fact]
    public async Task An_export_request_names_the_parameter_it_cannot_take()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var cancellation = TestContext.Current.CancellationToken;

        var domain = await (await app.Http.GetAsync("/api/export/sdtm?domain=CM", cancellation)).ExpectAsync(400);
        var dates = await (await app.Http.GetAsync("/api/export/sdtm?domain=VS&from=2026-11-30&to=2026-11-01", cancellation)).ExpectAsync(400);
        var empty = await (await app.Http.GetAsync("/api/export/sdtm?domain=vs", cancellation)).ExpectAsync(200);

        Assert.True(domain.GetProperty("errors").TryGetProperty("domain", out _));
        Assert.True(dates.GetProperty("errors").TryGetProperty("to", out _));
        Assert.Equal(0, empty.GetProperty("records").GetInt32());
        AssertDatasetJson11(JsonNode.Parse(empty.GetRawText())!.AsObject());

        var file = Path.Combine(data.Path, "exported-ae.json");
        var (exitCode, output) = await SiloProcess.RunToExitAsync(cancellation,
            "export", "sdtm", "--domain", "AE", "--out", file, "--urls", app.Http.BaseAddress!.ToString().TrimEnd('/'));
        Assert.True(exitCode == 0, output);
        AssertDatasetJson11(JsonNode.Parse(await System.IO.File.ReadAllTextAsync(file, cancellation))!.AsObject());
    }

    /// <summary>Each row as variable name to value text (null for null).</summary>
    private static List<Dictionary<string, string?>> Rows(JsonObject dataset)
    {
        var names = dataset["columns"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToArray();
        return [.. dataset["rows"]!.AsArray().Select(r => names.Select((n, i) => (n, r![i]))
            .ToDictionary(x => x.n, x => x.Item2 is null ? null : x.Item2.GetValueKind() == JsonValueKind.String ? x.Item2.GetValue<string>() : x.Item2.ToJsonString()))];
    }

    /// <summary>
    /// The Dataset-JSON v1.1 rules (CDISC specification, top-level and column attributes): required attributes and their
    /// patterns, column data types, records matching the rows, and each value of the JSON type its column's dataType asks.
    /// </summary>
    private static void AssertDatasetJson11(JsonObject dataset)
    {
        foreach (var required in new[] { "datasetJSONCreationDateTime", "datasetJSONVersion", "itemGroupOID", "records", "name", "label", "columns" })
        {
            Assert.True(dataset.ContainsKey(required), $"missing {required}");
        }

        Assert.Matches(DateTimePattern(), dataset["datasetJSONCreationDateTime"]!.GetValue<string>());
        Assert.Matches(@"^1\.1(\.(0|[1-9][0-9]*))?$", dataset["datasetJSONVersion"]!.GetValue<string>());
        Assert.NotEmpty(dataset["sourceSystem"]!["name"]!.GetValue<string>());
        Assert.NotEmpty(dataset["sourceSystem"]!["version"]!.GetValue<string>());
        var columns = dataset["columns"]!.AsArray();
        var types = new List<string>();
        foreach (var column in columns)
        {
            Assert.All(new[] { "itemOID", "name", "label", "dataType" }, a => Assert.False(string.IsNullOrEmpty(column![a]?.GetValue<string>()), a));
            var type = column!["dataType"]!.GetValue<string>();
            Assert.Contains(type, new[] { "string", "integer", "decimal", "float", "double", "boolean", "datetime", "date", "time", "URI" });
            types.Add(type);
        }

        var rows = dataset["rows"]!.AsArray();
        Assert.Equal(dataset["records"]!.GetValue<int>(), rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal(columns.Count, row!.AsArray().Count);
            for (var i = 0; i < columns.Count; i++)
            {
                if (row[i] is not { } value)
                {
                    continue;
                }

                var kind = value.GetValueKind();
                Assert.True(types[i] switch
                {
                    "integer" => kind == JsonValueKind.Number && value.ToJsonString().All(c => char.IsAsciiDigit(c) || c == '-'),
                    "double" or "float" => kind == JsonValueKind.Number,
                    "datetime" => kind == JsonValueKind.String && DateTimePattern().IsMatch(value.GetValue<string>()),
                    "date" => kind == JsonValueKind.String && DatePattern().IsMatch(value.GetValue<string>()),
                    _ => kind == JsonValueKind.String,
                }, $"{columns[i]!["name"]}: {value.ToJsonString()} is not a {types[i]}");
            }
        }
    }

    [GeneratedRegex(@"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?((\+|-)([01]\d|2[0-3]):[0-5]\d|Z)?$")]
    private static partial Regex DateTimePattern();

    [GeneratedRegex(@"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]
    private static partial Regex DatePattern();
}
