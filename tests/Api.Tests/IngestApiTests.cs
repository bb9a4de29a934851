using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary><c>POST /api/clinical/data</c>: one message per request.</summary>
public sealed class IngestApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private readonly HttpClient _http = app.Http;

    [Fact]
    public async Task Accepted_message_is_answered_202_with_its_id_and_location()
    {
        var message = Vitals();

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var body = await response.ExpectAsync(202);
        Assert.Equal(IdOf(message), body.GetProperty("message_id").GetGuid());
        Assert.Equal("accepted", body.GetProperty("status").GetString());
        Assert.Equal($"/api/clinical/messages/{IdOf(message)}", response.Headers.Location?.OriginalString);
        var trace = await (await _http.GetAsync(response.Headers.Location, TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal("accepted", trace.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Lab_panel_with_an_unknown_test_and_an_impossible_value_is_accepted_with_each_issue_named()
    {
        var site = NewSiteId();
        var message = Vitals(siteId: site);
        message.Remove("vital_signs");
        message["lab_results"] = new JsonObject
        {
            ["patient_id"] = NewPatientId(),
            ["results"] = new JsonArray(
                new JsonObject { ["test_code"] = "GLUC", ["value"] = 5.5, ["unit"] = "mmol/L" },
                new JsonObject { ["test_code"] = "NOSUCH", ["value"] = 3, ["unit"] = "mg/dL" },
                new JsonObject { ["test_code"] = "K", ["value"] = 40, ["unit"] = "mmol/L" }),
        };

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var body = await response.ExpectAsync(202);
        (string, string)[] issues = [("lab_results.results[1].test_code", "unknown_test"), ("lab_results.results[2].value", "range")];
        Assert.Equal(issues, body.GetProperty("result_issues").EnumerateArray().Select(v => (v.GetProperty("field").GetString()!, v.GetProperty("rule").GetString()!)));
        var trace = await (await _http.GetAsync(response.Headers.Location, TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal("accepted", trace.GetProperty("status").GetString());
        Assert.Equal(issues, trace.Violations());
        var summary = await (await _http.GetAsync($"/api/sites/{site}", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal(1, summary.GetProperty("rejection_reasons").GetProperty("lab_results.results[].test_code:unknown_test").GetInt32());
        Assert.Equal(1, summary.GetProperty("rejection_reasons").GetProperty("lab_results.results[].value:range").GetInt32());
    }

    [Fact]
    public async Task Body_that_is_not_utf8_is_a_problem_and_kept_in_quarantine_as_base64()
    {
        byte[] body = [.. Encoding.UTF8.GetBytes(AdverseEvent("Naus").ToJsonString()[..^3]), 0xE9, .. "e\"}}"u8]; // "Naus\xe9e"
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var problem = await (await _http.PostAsync("/api/clinical/data", content, TestContext.Current.CancellationToken)).ExpectAsync(400);

        Assert.Equal([("$", "json")], problem.Violations());
        var line = Directory.EnumerateFiles(Path.Combine(app.DataPath, "quarantine"), "*.ndjson", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines)
            .Single(l => l.Contains(Convert.ToBase64String(body), StringComparison.Ordinal));
        Assert.Contains("\"raw_base64\":", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Message_holding_a_direct_identifier_is_a_problem_naming_the_field_and_the_identifier_is_stored_nowhere()
    {
        const string EMail = "jane.doe.4711@example.org";
        var message = AdverseEvent($"Rash, write to {EMail}");

        var problem = await (await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken)).ExpectAsync(400);

        Assert.Equal([("adverse_event.event_term", "direct_identifier")], problem.Violations());
        Assert.DoesNotContain(EMail, problem.GetRawText(), StringComparison.Ordinal);
        var trace = await (await _http.GetAsync($"/api/clinical/messages/{IdOf(message)}", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal("rejected", trace.GetProperty("status").GetString());
        var needle = Encoding.UTF8.GetBytes(EMail);
        foreach (var file in Directory.EnumerateFiles(app.DataPath, "*", SearchOption.AllDirectories))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var bytes = new MemoryStream();
            await stream.CopyToAsync(bytes, TestContext.Current.CancellationToken);
            Assert.True(bytes.GetBuffer().AsSpan(0, (int)bytes.Length).IndexOf(needle) < 0, $"{file} holds the identifier.");
        }
    }

    [Fact]
    public async Task Message_with_a_key_given_twice_is_a_problem_and_stored_under_neither_value()
    {
        var message = Vitals();
        var second = Guid.NewGuid();
        var body = message.ToJsonString().Replace("\"study_phase\"", $"\"message_id\":\"{second}\",\"study_phase\"");

        var problem = await (await _http.PostAsync("/api/clinical/data", Json(body), TestContext.Current.CancellationToken)).ExpectAsync(400);

        Assert.Equal([("message_id", "duplicate_key")], problem.Violations());
        await (await _http.GetAsync($"/api/clinical/messages/{IdOf(message)}", TestContext.Current.CancellationToken)).ExpectAsync(404);
        await (await _http.GetAsync($"/api/clinical/messages/{second}", TestContext.Current.CancellationToken)).ExpectAsync(404);
    }

    [Fact]
    public async Task Duplicate_message_is_answered_with_status_duplicate()
    {
        var message = Vitals();
        await (await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken)).ExpectAsync(202);

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var body = await response.ExpectAsync(200);
        Assert.Equal(IdOf(message), body.GetProperty("message_id").GetGuid());
        Assert.Equal("duplicate", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Invalid_message_is_a_problem_naming_each_field_and_rule()
    {
        var message = HeartRateOnly(400);
        message["study_phase"] = "Phase 9";
        message["vital_signs"]!["patient_id"] = "pt-lower";

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        var errors = problem.GetProperty("errors");
        Assert.Equal(
            ["study_phase", "vital_signs.heart_rate", "vital_signs.patient_id"],
            errors.EnumerateObject().Select(e => e.Name).Order());
        Assert.StartsWith("range:", errors.GetProperty("vital_signs.heart_rate")[0].GetString());
        Assert.Equal(
            [("study_phase", "enum"), ("vital_signs.heart_rate", "range"), ("vital_signs.patient_id", "format")],
            problem.Violations().Order());
        Assert.Equal(IdOf(message), problem.GetProperty("message_id").GetGuid());
    }

    [Fact]
    public async Task Rejected_message_is_kept_with_its_violations()
    {
        var message = HeartRateOnly(10);
        await (await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken)).ExpectAsync(400);

        var trace = await (await _http.GetAsync($"/api/clinical/messages/{IdOf(message)}", TestContext.Current.CancellationToken)).ExpectAsync(200);

        Assert.Equal("rejected", trace.GetProperty("status").GetString());
        Assert.StartsWith("quarantine/", trace.GetProperty("quarantine_location").GetString());
        Assert.False(trace.TryGetProperty("bronze_location", out _));
        Assert.Equal([("vital_signs.heart_rate", "range")], trace.Violations());
    }

    [Theory]
    [InlineData("{\"message_id\": ")]
    [InlineData("not json")]
    [InlineData("")]
    public async Task Malformed_json_is_a_problem_naming_rule_json(string body)
    {
        var response = await _http.PostAsync("/api/clinical/data", Json(body), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("$", "json")], problem.Violations());
        Assert.True(problem.GetProperty("errors").TryGetProperty("$", out _));
    }

    [Fact]
    public async Task Wrong_types_are_a_bad_request()
    {
        var message = Vitals();
        message["vital_signs"]!["heart_rate"] = "120";
        message["vital_signs"]!["systolic_bp"] = true;

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("vital_signs.heart_rate", "type"), ("vital_signs.systolic_bp", "type")], problem.Violations().Order());
    }

    [Fact]
    public async Task Body_is_read_as_json_whatever_its_content_type()
    {
        var message = Vitals();

        var response = await _http.PostAsync("/api/clinical/data",
            new StringContent(message.ToJsonString(), Encoding.UTF8, "text/plain"), TestContext.Current.CancellationToken);

        await response.ExpectAsync(202);
    }

    [Fact]
    public async Task Body_over_one_mebibyte_is_413()
    {
        var message = AdverseEvent("Headache");
        message["padding"] = new string('x', 1024 * 1024);

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(413);
        Assert.Equal(413, problem.GetProperty("status").GetInt32());
        await (await _http.GetAsync($"/api/clinical/messages/{IdOf(message)}", TestContext.Current.CancellationToken)).ExpectAsync(404);
    }

    [Fact]
    public async Task Streamed_body_over_one_mebibyte_is_413()
    {
        var message = AdverseEvent("Headache");
        message["padding"] = new string('x', 1024 * 1024);
        // No Content-Length: the limit must hold while reading, not only on the header.
        var content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(message.ToJsonString())));
        content.Headers.ContentType = new("application/json");

        var response = await _http.PostAsync("/api/clinical/data", content, TestContext.Current.CancellationToken);

        await response.ExpectAsync(413);
    }

    [Fact]
    public async Task Unicode_body_near_the_limit_is_accepted_and_counted_in_bytes()
    {
        // 3 bytes per character: 300,000 characters are ~900 KB, under 1 MiB; 400,000 are ~1.2 MB, over it.
        var fits = AdverseEvent("Übelkeit 吐き気 🤢");
        fits["note"] = new string('吐', 300_000);
        var over = AdverseEvent("Übelkeit");
        over["note"] = new string('吐', 400_000);

        await (await _http.PostAsync("/api/clinical/data", Json(fits), TestContext.Current.CancellationToken)).ExpectAsync(202);
        await (await _http.PostAsync("/api/clinical/data", Json(over), TestContext.Current.CancellationToken)).ExpectAsync(413);
    }

    [Fact]
    public async Task Huge_unicode_text_field_is_rejected_by_rule()
    {
        var message = AdverseEvent(string.Concat(Enumerable.Repeat("吐き気🤢", 20_000)));

        var response = await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("adverse_event.event_term", "format")], problem.Violations());
    }

    [Fact]
    public async Task Unicode_event_term_is_accepted()
    {
        var patient = NewPatientId();
        var message = AdverseEvent("Übelkeit – 吐き気 – тошнота 🤢", patient);

        await (await _http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken)).ExpectAsync(202);

        var summary = await (await _http.GetAsync($"/api/patients/{patient}", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal(1, summary.GetProperty("adverse_event_count").GetInt32());
    }

    [Fact]
    public async Task Control_characters_in_text_are_rejected()
    {
        var response = await _http.PostAsync("/api/clinical/data", Json(AdverseEvent("Nau\u0000sea")), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("adverse_event.event_term", "format")], problem.Violations());
    }

    /// <summary>Makes HttpClient send the body chunked, with no Content-Length.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
