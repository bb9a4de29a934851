using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using static ClinicalTrials.Api.Tests.SdtmFiles;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// <c>POST /api/import/sdtm</c>: CDISC's own pilot-study datasets and generated ones through the one ingest path,
/// reported per row; the same files twice store nothing twice; a broken file is refused whole, naming the row.
/// </summary>
public sealed class SdtmImportTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private static readonly string[] VsColumns = ["STUDYID", "DOMAIN", "USUBJID", "VSSEQ", "VSTESTCD", "VSSTRESN", "VSSTRESU", "VSDTC"];
    private readonly HttpClient _http = app.Http;

    private async Task<JsonElement> ImportAsync(string site, HttpContent content, int status = 200) =>
        await (await _http.PostAsync(ImportUrl(site), content, TestContext.Current.CancellationToken)).ExpectAsync(status);

    private async Task<string> PatientOfAsync(string usubjid) =>
        (await app.Services.GetRequiredService<IGrainFactory>()
            .GetGrain<ISubjectPseudonymGrain>(ISubjectPseudonymGrain.Default).PseudonymiseAsync([usubjid]))[0];

    private static void AssertCounts(JsonElement report, int records, int accepted, int flagged, int duplicates, int rejected, int skipped)
    {
        var counts = new[] { "records", "accepted", "flagged", "duplicates", "rejected", "skipped" }.Select(n => report.GetProperty(n).GetInt32()).ToArray();
        Assert.Equal([records, accepted, flagged, duplicates, rejected, skipped], counts);
    }

    [Fact]
    public async Task The_CDISC_pilot_datasets_are_stored_under_pseudonyms_and_reported_per_row()
    {
        var site = NewSiteId();

        var dm = await ImportAsync(site, File("dm.json"));
        var vs = await ImportAsync(site, File("vs.ndjson"));
        var lb = await ImportAsync(site, File("lb.json"));
        var ae = await ImportAsync(site, File("ae.json"));

        AssertCounts(dm, 2, 2, 0, 0, 0, 0);
        // Height and weight have no field in our vital signs; the other 50 rows are dates without a time, completed.
        AssertCounts(vs, 57, 50, 0, 0, 0, 7);
        Assert.Equal(50, vs.GetProperty("imputed_dates").GetInt32());
        // A visit's three supine and standing readings, taken the same day, are three messages; the other visits one each.
        Assert.Equal(14, vs.GetProperty("messages").GetInt32());
        Assert.Equal(7, vs.GetProperty("reasons").GetProperty("VSTESTCD:unsupported_test").GetInt32());
        AssertCounts(ae, 5, 5, 0, 0, 0, 0);
        // The pilot's urinalysis has no LBSPEC: LBCAT says urine. Its COLOR "NORMAL" and KETONES "0" are no answers the
        // catalogue knows (rejected, each alone); UREAN is not in the catalogue and UROBIL came without a unit (flagged).
        AssertCounts(lb, 37, 33, 2, 0, 2, 0);
        Assert.Equal(2, lb.GetProperty("reasons").GetProperty("lab_results.results[].value:enum").GetInt32());
        Assert.Equal(1, lb.GetProperty("reasons").GetProperty("lab_results.results[].test_code:unknown_test").GetInt32());
        Assert.Equal(1, lb.GetProperty("reasons").GetProperty("lab_results.results[].unit:unknown_unit").GetInt32());
        Assert.Equal(1, lb.GetProperty("messages").GetInt32()); // one panel: one subject, one collection time

        // The subject's data is under its pseudonym, never its USUBJID.
        var patient = await PatientOfAsync("CDISC001");
        Assert.Matches("^PT[A-Z2-7]{8}$", patient);
        var state = await (await _http.GetAsync($"/api/patients/{patient}", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.DoesNotContain("CDISC001", state.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(84, state.GetProperty("demographics").GetProperty("age").GetInt32());
        Assert.NotEqual(patient, await PatientOfAsync("CDISC002"));
    }

    [Fact]
    public async Task The_same_dataset_twice_stores_nothing_twice_in_either_form()
    {
        var site = NewSiteId();
        var dataset = Dataset("VS", VsColumns,
            ["S1", "VS", "SUBJ-1", 1, "SYSBP", 131, "mmHg", "2026-11-20T08:00"],
            ["S1", "VS", "SUBJ-1", 2, "DIABP", 84, "mmHg", "2026-11-20T08:00"],
            ["S1", "VS", "SUBJ-1", 3, "PULSE", 77, "beats/min", "2026-11-20T09:00"]);

        var first = await ImportAsync(site, AsJson(dataset));
        var again = await ImportAsync(site, AsJson(dataset));
        var asNdjson = await ImportAsync(site, AsNdjson(dataset));

        AssertCounts(first, 3, 3, 0, 0, 0, 0);
        Assert.Equal(2, first.GetProperty("messages").GetInt32());
        AssertCounts(again, 3, 0, 0, 3, 0, 0);
        AssertCounts(asNdjson, 3, 0, 0, 3, 0, 0);
        var stats = await (await _http.GetAsync($"/api/sites/{site}", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Contains("\"vital_signs\":2", stats.GetRawText().Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_row_is_judged_on_its_own_and_the_answer_names_its_variable_or_field()
    {
        var site = NewSiteId();
        var dataset = Dataset("LB", ["USUBJID", "LBTESTCD", "LBORRES", "LBORRESU", "LBSTRESN", "LBSTRESU", "LBDTC"],
            ["SUBJ-2", "GLUC", "5.5", "mmol/L", 99.1, "mg/dL", "2026-11-21T07:30"],
            ["SUBJ-2", "CREAT", "9000", "mg/dL", null, null, "2026-11-21T07:30"],
            ["SUBJ-2", "NEWTEST", "3", "mg/dL", null, null, "2026-11-21T07:30"],
            ["SUBJ-2", "HGB", "14", "furlongs", null, null, "2026-11-21T07:30"],
            [null, "HGB", "14", "g/dL", null, null, "2026-11-21T07:30"],
            ["SUBJ-2", "HGB", "14", "g/dL", null, null, "2026-11"]);

        var report = await ImportAsync(site, AsJson(dataset));

        AssertCounts(report, 6, 2, 2, 0, 2, 0);
        var issues = report.GetProperty("issues").EnumerateArray()
            .Select(i => (i.GetProperty("row").GetInt32(), i.GetProperty("field").GetString(), i.GetProperty("rule").GetString(), i.GetProperty("outcome").GetString()))
            .ToList();
        Assert.Contains((1, "lab_results.results[1].value", "range", "rejected"), issues);
        Assert.Contains((2, "lab_results.results[2].test_code", "unknown_test", "flagged"), issues);
        Assert.Contains((3, "lab_results.results[3].unit", "unknown_unit", "flagged"), issues);
        Assert.Contains((4, "USUBJID", "required", "rejected"), issues);
        Assert.Equal(1, report.GetProperty("imputed_dates").GetInt32()); // LBDTC 2026-11 is the 1st of November
    }

    [Fact]
    public async Task A_broken_file_is_refused_whole_naming_the_row_and_nothing_is_stored()
    {
        var site = NewSiteId();
        var dataset = Dataset("VS", VsColumns,
            ["S1", "VS", "SUBJ-3", 1, "SYSBP", 131, "mmHg", "2026-11-20T08:00"],
            ["S1", "VS", "SUBJ-3", 2, "DIABP", 84, "mmHg"]);

        var problem = await ImportAsync(site, AsJson(dataset), 400);
        var ndjsonProblem = await ImportAsync(site, AsNdjson(dataset), 400);
        var otherDomain = await ImportAsync(site, AsJson(Dataset("CM", ["USUBJID"], ["SUBJ-3"])), 400);
        var noVersion = Dataset("VS", VsColumns);
        noVersion.Remove("datasetJSONVersion");
        var versionProblem = await ImportAsync(site, AsJson(noVersion), 400);

        Assert.True(problem.GetProperty("errors").TryGetProperty("rows[1]", out _), problem.GetRawText());
        Assert.True(ndjsonProblem.GetProperty("errors").TryGetProperty("line 3", out _), ndjsonProblem.GetRawText());
        Assert.True(otherDomain.GetProperty("errors").TryGetProperty("name", out _), otherDomain.GetRawText());
        Assert.True(versionProblem.GetProperty("errors").TryGetProperty("datasetJSONVersion", out _), versionProblem.GetRawText());
        await (await _http.GetAsync($"/api/sites/{site}", TestContext.Current.CancellationToken)).ExpectAsync(404);
    }

    [Fact]
    public async Task The_import_command_sends_every_file_of_a_directory_and_prints_each_answer()
    {
        var site = NewSiteId();
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken,
            "import", "sdtm", TestDataDirectory, "--urls", _http.BaseAddress!.ToString().TrimEnd('/'), "--site-id", site, "--study-phase", "Phase II");

        Assert.True(exitCode == 0, output);
        foreach (var file in new[] { "ae.json: 200", "dm.json: 200", "lb.json: 200", "vs.ndjson: 200" })
        {
            Assert.Contains(file, output, StringComparison.Ordinal);
        }

        Assert.Contains("\"domain\": \"VS\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_import_command_without_a_site_names_the_option_and_its_help()
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken,
            "import", "sdtm", TestDataDirectory, "--study-phase", "Phase II");

        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'--site-id' is required", line, StringComparison.Ordinal);
        Assert.Contains("import sdtm --help", line, StringComparison.Ordinal);
    }
}

/// <summary>The pseudonymisation key is made once and kept: a subject has the same patient id after a restart, and another platform's key gives another.</summary>
public sealed class SdtmPseudonymTests
{
    private static async Task<string> PseudonymAsync(string dataDirectory, string subject)
    {
        await using var app = await ClinicalApp.StartAsync(dataDirectory);
        return (await app.Services.GetRequiredService<IGrainFactory>().GetGrain<ISubjectPseudonymGrain>(ISubjectPseudonymGrain.Default)
            .PseudonymiseAsync([subject, subject]))[0];
    }

    [Fact]
    public async Task A_subject_keeps_its_patient_id_across_a_restart_and_another_platform_gives_another()
    {
        using var data = new DataDirectory();
        using var other = new DataDirectory();

        var first = await PseudonymAsync(data.Path, "CDISCPILOT01-701-1015");
        var afterRestart = await PseudonymAsync(data.Path, "CDISCPILOT01-701-1015");
        var elsewhere = await PseudonymAsync(other.Path, "CDISCPILOT01-701-1015");

        Assert.Equal(first, afterRestart);
        Assert.NotEqual(first, elsewhere);
        Assert.Matches("^PT[A-Z2-7]{8}$", first);
    }
}
