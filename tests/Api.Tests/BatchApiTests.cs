using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Lake;

namespace ClinicalTrials.Api.Tests;

/// <summary><c>POST /api/clinical/data/batch</c>: a JSON array or NDJSON, with an outcome per message.</summary>
public sealed class BatchApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private readonly HttpClient _http = app.Http;

    private async Task<string> StatusOfAsync(Guid id) =>
        (await (await _http.GetAsync($"/api/clinical/messages/{id}", TestContext.Current.CancellationToken)).ExpectAsync(200))
            .GetProperty("status").GetString()!;

    /// <summary>The bodies of every quarantine line written so far (raw or raw_base64).</summary>
    private List<byte[]> QuarantinedBodies() =>
        [.. Directory.EnumerateFiles(Path.Combine(app.DataPath, "quarantine"), "*.ndjson", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines)
            .Select(line => BronzeRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record) ? record.Raw.ToArray() : [])];

    [Fact]
    public async Task Json_array_batch_answers_per_message_and_stores_the_valid_ones()
    {
        var valid = Vitals();
        var invalid = HeartRateOnly(999);
        var alsoValid = AdverseEvent("Rash");
        var batch = new JsonArray(valid, invalid, alsoValid, valid.DeepClone());

        var response = await _http.PostAsync("/api/clinical/data/batch", Json(batch), TestContext.Current.CancellationToken);

        var body = await response.ExpectAsync(200);
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        Assert.Equal(1, body.GetProperty("duplicates").GetInt32());
        Assert.Equal(1, body.GetProperty("rejected").GetInt32());
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2, 3], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal(["accepted", "rejected", "accepted", "duplicate"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal([IdOf(valid), IdOf(invalid), IdOf(alsoValid), IdOf(valid)], results.Select(r => r.GetProperty("message_id").GetGuid()));
        Assert.Equal([("vital_signs.heart_rate", "range")],
            results[1].GetProperty("errors").EnumerateArray().Select(v => (v.GetProperty("field").GetString(), v.GetProperty("rule").GetString())));
        Assert.False(results[0].TryGetProperty("errors", out _));

        Assert.Equal("accepted", await StatusOfAsync(IdOf(valid)));
        Assert.Equal("accepted", await StatusOfAsync(IdOf(alsoValid)));
        Assert.Equal("rejected", await StatusOfAsync(IdOf(invalid)));
    }

    [Fact]
    public async Task Ndjson_batch_answers_per_line_and_stores_the_valid_ones()
    {
        var valid = Vitals();
        var wrongType = Vitals();
        wrongType["vital_signs"]!["heart_rate"] = "72";
        var alsoValid = Vitals();
        string[] lines = [valid.ToJsonString(), "{\"message_id\": oops", wrongType.ToJsonString(), "", alsoValid.ToJsonString()];

        var response = await _http.PostAsync("/api/clinical/data/batch", Ndjson(lines), TestContext.Current.CancellationToken);

        var body = await response.ExpectAsync(200);
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["accepted", "rejected", "rejected", "accepted"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal("json", results[1].GetProperty("errors")[0].GetProperty("rule").GetString());
        Assert.False(results[1].TryGetProperty("message_id", out _));
        Assert.Equal("type", results[2].GetProperty("errors")[0].GetProperty("rule").GetString());
        Assert.Equal("accepted", await StatusOfAsync(IdOf(valid)));
        Assert.Equal("accepted", await StatusOfAsync(IdOf(alsoValid)));
        Assert.Equal("rejected", await StatusOfAsync(IdOf(wrongType)));
    }

    [Fact]
    public async Task Ndjson_is_recognised_by_content_type_even_when_a_line_starts_with_a_bracket()
    {
        var valid = Vitals();
        string[] lines = ["[1,2]", valid.ToJsonString()];

        var body = await (await _http.PostAsync("/api/clinical/data/batch", Ndjson(lines), TestContext.Current.CancellationToken)).ExpectAsync(200);

        Assert.Equal(["rejected", "accepted"], body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()));
    }

    [Theory]
    [InlineData("application/x-ndjson")]
    [InlineData("application/json")]
    public async Task Message_that_is_not_utf8_or_holds_a_lone_surrogate_is_quarantined_alone(string contentType)
    {
        var valid = Vitals();
        byte[] latin1 = [.. Encoding.UTF8.GetBytes(AdverseEvent("Naus").ToJsonString()[..^3]), 0xE9, .. "e\"}}"u8]; // "Naus\xe9e"
        var surrogate = Encoding.UTF8.GetBytes(AdverseEvent("X").ToJsonString().Replace("\"X\"", "\"\\ud800\""));
        byte[][] messages = [latin1, Encoding.UTF8.GetBytes(valid.ToJsonString()), surrogate];
        var body = contentType == "application/json"
            ? [(byte)'[', .. messages[0], (byte)',', .. messages[1], (byte)',', .. messages[2], (byte)']']
            : messages.SelectMany(m => m.Append((byte)'\n')).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        var reply = await (await _http.PostAsync("/api/clinical/data/batch", content, TestContext.Current.CancellationToken)).ExpectAsync(200);

        var results = reply.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["rejected", "accepted", "rejected"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(("$", "json"), (results[0].GetProperty("errors")[0].GetProperty("field").GetString(), results[0].GetProperty("errors")[0].GetProperty("rule").GetString()));
        Assert.Equal("adverse_event.event_term", results[2].GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("accepted", await StatusOfAsync(IdOf(valid)));
        var quarantined = QuarantinedBodies();
        Assert.Contains(quarantined, raw => raw.SequenceEqual(latin1));
        Assert.Contains(quarantined, raw => raw.SequenceEqual(surrogate));
    }

    [Fact]
    public async Task Duplicate_key_rejects_only_its_own_line()
    {
        var valid = Vitals();
        var twice = Vitals();
        var line = twice.ToJsonString().Replace("\"study_phase\"", $"\"message_id\":\"{Guid.NewGuid()}\",\"study_phase\"");

        var reply = await (await _http.PostAsync("/api/clinical/data/batch", Ndjson([line, valid.ToJsonString()]), TestContext.Current.CancellationToken)).ExpectAsync(200);

        var results = reply.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["rejected", "accepted"], results.Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(("message_id", "duplicate_key"), (results[0].GetProperty("errors")[0].GetProperty("field").GetString(), results[0].GetProperty("errors")[0].GetProperty("rule").GetString()));
        await (await _http.GetAsync($"/api/clinical/messages/{IdOf(twice)}", TestContext.Current.CancellationToken)).ExpectAsync(404);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-ndjson")]
    public async Task Batch_of_millions_of_tiny_items_is_refused_at_the_limit(string contentType)
    {
        const int items = 5_000_000; // 14.3 MiB as an array: parsed whole, it once took 37 s and 6.9 GB
        var body = contentType == "application/json"
            ? "[" + string.Join(",", Enumerable.Repeat("{}", items)) + "]"
            : string.Join("\n", Enumerable.Repeat("{}", items));

        var response = await _http.PostAsync("/api/clinical/data/batch", new StringContent(body, Encoding.UTF8, contentType), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("$", "max_items")], problem.Violations());
    }

    [Fact]
    public async Task Batch_over_ten_thousand_messages_is_rejected()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("{}", ClinicalDataApi.MaxBatchMessages + 1)) + "]";

        var response = await _http.PostAsync("/api/clinical/data/batch", Json(body), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("$", "max_items")], problem.Violations());
    }

    [Fact]
    public async Task Batch_of_exactly_ten_thousand_messages_is_judged()
    {
        var lines = Enumerable.Repeat("{}", ClinicalDataApi.MaxBatchMessages);

        var body = await (await _http.PostAsync("/api/clinical/data/batch", Ndjson(lines), TestContext.Current.CancellationToken)).ExpectAsync(200);

        Assert.Equal(ClinicalDataApi.MaxBatchMessages, body.GetProperty("rejected").GetInt32());
    }

    [Theory]
    [InlineData("[]", "application/json")]
    [InlineData("  [ ]  ", "application/json")]
    [InlineData("", "application/x-ndjson")]
    [InlineData("\n \n\r\n", "application/x-ndjson")]
    public async Task Empty_batch_is_rejected(string body, string contentType)
    {
        var response = await _http.PostAsync("/api/clinical/data/batch", new StringContent(body, Encoding.UTF8, contentType), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("$", "required")], problem.Violations());
    }

    [Theory]
    [InlineData("[{\"message_id\":")]
    [InlineData("[{}, oops]")]
    public async Task Json_array_that_does_not_parse_is_rejected_as_a_whole(string body)
    {
        var response = await _http.PostAsync("/api/clinical/data/batch", Json(body), TestContext.Current.CancellationToken);

        var problem = await response.ExpectAsync(400);
        Assert.Equal([("$", "json")], problem.Violations());
    }
}
