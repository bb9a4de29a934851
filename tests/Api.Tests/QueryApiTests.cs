using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Reading back: stats, message traces, patients, sites, health and the API description.</summary>
public sealed class QueryApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private readonly HttpClient _http = app.Http;

    private Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path, TestContext.Current.CancellationToken);

    private Task<HttpResponseMessage> PostAsync(string path, HttpContent content) => _http.PostAsync(path, content, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Stats_count_each_outcome_by_type_and_site()
    {
        var site = NewSiteId();
        var before = await (await GetAsync("/api/clinical/stats")).ExpectAsync(200);
        var vitals = Vitals(siteId: site);
        await (await PostAsync("/api/clinical/data", Json(vitals))).ExpectAsync(202);
        await (await PostAsync("/api/clinical/data", Json(vitals))).ExpectAsync(200);
        await (await PostAsync("/api/clinical/data", Json(AdverseEvent("Rash", siteId: site)))).ExpectAsync(202);
        await (await PostAsync("/api/clinical/data", Json(HeartRateOnly(500, site)))).ExpectAsync(400);

        var after = await (await GetAsync("/api/clinical/stats")).ExpectAsync(200);

        long Delta(string name) => after.GetProperty(name).GetInt64() - before.GetProperty(name).GetInt64();
        Assert.Equal(4, Delta("total_received"));
        Assert.Equal(2, Delta("accepted"));
        Assert.Equal(1, Delta("rejected"));
        Assert.Equal(1, Delta("duplicates"));
        Assert.Equal(
            after.GetProperty("total_received").GetInt64(),
            after.GetProperty("accepted").GetInt64() + after.GetProperty("rejected").GetInt64() + after.GetProperty("duplicates").GetInt64());
        var expectedRate = Math.Round((double)after.GetProperty("accepted").GetInt64() / after.GetProperty("total_received").GetInt64(), 4);
        Assert.Equal(expectedRate, after.GetProperty("success_rate").GetDouble());

        var bySite = after.GetProperty("by_site").GetProperty(site);
        Assert.Equal((2, 1, 1), (bySite.GetProperty("accepted").GetInt64(), bySite.GetProperty("rejected").GetInt64(), bySite.GetProperty("duplicates").GetInt64()));
        var vitalsBefore = before.GetProperty("by_type").TryGetProperty("vital_signs", out var v) ? v.GetProperty("accepted").GetInt64() : 0;
        Assert.Equal(1, after.GetProperty("by_type").GetProperty("vital_signs").GetProperty("accepted").GetInt64() - vitalsBefore);
        Assert.True(after.GetProperty("by_type").TryGetProperty("adverse_event", out _));
    }

    [Fact]
    public async Task Accepted_message_trace_shows_its_bronze_location()
    {
        var patient = NewPatientId();
        var message = Vitals(patient);
        await (await PostAsync("/api/clinical/data", Json(message))).ExpectAsync(202);

        var trace = await (await GetAsync($"/api/clinical/messages/{IdOf(message)}")).ExpectAsync(200);

        Assert.Equal("accepted", trace.GetProperty("status").GetString());
        Assert.Equal(patient, trace.GetProperty("patient_id").GetString());
        Assert.Equal("vital_signs", trace.GetProperty("payload_type").GetString());
        var location = trace.GetProperty("bronze_location").GetString()!;
        Assert.Matches(@"^raw/vital_signs/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/part-.+\.ndjson$", location);
        Assert.True(File.Exists(Path.Combine(app.DataPath, location)));
        Assert.False(trace.TryGetProperty("violations", out _));
    }

    [Fact]
    public async Task Unknown_message_is_404_problem()
    {
        var problem = await (await GetAsync($"/api/clinical/messages/{Guid.NewGuid()}")).ExpectAsync(404);

        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Message_id_that_is_not_a_uuid_is_400()
    {
        var problem = await (await GetAsync("/api/clinical/messages/not-a-uuid")).ExpectAsync(400);

        Assert.True(problem.GetProperty("errors").TryGetProperty("message_id", out _));
    }

    [Fact]
    public async Task Patient_summary_shows_the_accepted_data()
    {
        var patient = NewPatientId();
        await (await PostAsync("/api/clinical/data", Json(Vitals(patient, heartRate: 65)))).ExpectAsync(202);
        await (await PostAsync("/api/clinical/data", Json(AdverseEvent("Rash", patient)))).ExpectAsync(202);

        var summary = await (await GetAsync($"/api/patients/{patient}")).ExpectAsync(200);

        Assert.Equal(patient, summary.GetProperty("patient_id").GetString());
        Assert.Equal(1, summary.GetProperty("message_counts").GetProperty("vital_signs").GetInt32());
        Assert.Equal(1, summary.GetProperty("message_counts").GetProperty("adverse_event").GetInt32());
        Assert.Equal(65, summary.GetProperty("latest_vitals").GetProperty("heart_rate").GetProperty("value").GetDouble());
        Assert.Equal(1, summary.GetProperty("adverse_event_count").GetInt32());
    }

    [Theory]
    [InlineData("F", "phase 2", "F", "Phase II")]
    [InlineData("female", "Phase II", "F", "Phase II")]
    [InlineData("m", "PHASE IV", "M", "Phase IV")]
    [InlineData("Other", "Phase 1", "OTHER", "Phase I")]
    [InlineData(" u ", "phase iii", "UNKNOWN", "Phase III")]
    public async Task Patient_summary_shows_gender_and_study_phase_by_their_wire_names_whatever_spelling_was_sent(
        string gender, string phase, string shownGender, string shownPhase)
    {
        var patient = NewPatientId();
        var message = Vitals(patient);
        message.Remove("vital_signs");
        message["study_phase"] = phase;
        message["patient_demographics"] = new JsonObject
        {
            ["patient_id"] = patient, ["age"] = 47, ["gender"] = gender, ["weight_kg"] = 70.0, ["height_cm"] = 170.0,
            ["enrollment_date"] = "2026-01-05", ["trial_arm"] = "PLACEBO",
        };
        await (await PostAsync("/api/clinical/data", Json(message))).ExpectAsync(202);

        var summary = await (await GetAsync($"/api/patients/{patient}")).ExpectAsync(200);

        Assert.Equal(shownGender, summary.GetProperty("demographics").GetProperty("gender").GetString());
        Assert.Equal(shownPhase, summary.GetProperty("study_phase").GetString());
    }

    [Fact]
    public async Task Unknown_patient_is_404_problem()
    {
        await (await GetAsync($"/api/patients/{NewPatientId()}")).ExpectAsync(404);
    }

    [Theory]
    [InlineData("pt12ab34cd")]
    [InlineData("PT123")]
    [InlineData("%E5%90%90")]
    public async Task Malformed_patient_id_is_400(string patientId)
    {
        var problem = await (await GetAsync($"/api/patients/{patientId}")).ExpectAsync(400);

        Assert.True(problem.GetProperty("errors").TryGetProperty("patient_id", out _));
    }

    [Fact]
    public async Task Site_summary_counts_its_messages()
    {
        var site = NewSiteId();
        await (await PostAsync("/api/clinical/data", Json(Vitals(siteId: site)))).ExpectAsync(202);
        await (await PostAsync("/api/clinical/data", Json(HeartRateOnly(0, site)))).ExpectAsync(400);

        var summary = await (await GetAsync($"/api/sites/{site}")).ExpectAsync(200);

        Assert.Equal(1, summary.GetProperty("accepted").GetProperty("vital_signs").GetInt32());
        Assert.Equal(1, summary.GetProperty("rejected").GetProperty("vital_signs").GetInt32());
        Assert.Equal(1, summary.GetProperty("rejection_reasons").GetProperty("vital_signs.heart_rate:range").GetInt32());
    }

    [Theory]
    [InlineData("%20")]
    [InlineData("%09")]
    [InlineData("%0A")]
    [InlineData("site001")]
    public async Task Malformed_site_id_is_a_problem_naming_site_id(string siteId)
    {
        var problem = await (await GetAsync($"/api/sites/{siteId}")).ExpectAsync(400);

        Assert.True(problem.GetProperty("errors").TryGetProperty("site_id", out _));
    }

    [Fact]
    public async Task Site_that_never_sent_a_message_is_404()
    {
        var problem = await (await GetAsync($"/api/sites/{NewSiteId()}")).ExpectAsync(404);

        Assert.Equal("Site not found", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Health_reports_journal_grains_disk_a_disabled_online_store_no_model_and_the_prediction_log()
    {
        var health = await (await GetAsync("/api/clinical/health")).ExpectAsync(200);

        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var components = health.GetProperty("components");
        Assert.Equal(["disk", "grains", "journal", "kafka", "model", "model_monitoring", "online_store", "prediction_log", "shutdown"],
            components.EnumerateObject().Select(c => c.Name).Order());
        Assert.Equal("disabled", components.GetProperty("kafka").GetProperty("status").GetString());
        Assert.Equal("healthy", components.GetProperty("journal").GetProperty("status").GetString());
        Assert.Equal("healthy", components.GetProperty("grains").GetProperty("status").GetString());
        Assert.Equal("healthy", components.GetProperty("shutdown").GetProperty("status").GetString());
        Assert.Equal("disabled", components.GetProperty("online_store").GetProperty("status").GetString());
        Assert.Equal("degraded", components.GetProperty("model").GetProperty("status").GetString());
        Assert.StartsWith("No model is in production", components.GetProperty("model").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("healthy", components.GetProperty("prediction_log").GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_document_lists_the_endpoints()
    {
        var document = await (await GetAsync("/openapi/v1.json")).ExpectAsync(200);

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Subset(paths.ToHashSet(), new HashSet<string>
        {
            "/api/clinical/data",
            "/api/clinical/data/batch",
            "/api/clinical/messages/{messageId}",
            "/api/clinical/stats",
            "/api/clinical/health",
            "/api/patients/{patientId}",
            "/api/patients/{patientId}/features",
            "/api/sites/{siteId}",
        });
        Assert.Equal(JsonValueKind.Object, document.GetProperty("paths").GetProperty("/api/clinical/data").GetProperty("post").ValueKind);
    }

    [Fact]
    public async Task Interactive_docs_are_served()
    {
        var response = await GetAsync("/api/docs");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("openapi/v1.json", page);
    }

    [Fact]
    public async Task Unknown_route_is_404_not_500()
    {
        var response = await GetAsync("/api/clinical/nothing-here");

        Assert.Equal(404, (int)response.StatusCode);
    }
}
