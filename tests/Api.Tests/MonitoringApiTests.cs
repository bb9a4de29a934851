using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Reporting;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// Ground truth and the monitoring job through the real silo: adverse events reported through ingest label the earlier
/// predictions of their patient once silver has them, a late report changes a label and keeps its history, and a run's
/// report is served, exported as gauges and rendered as Markdown and PNG stored with the run; on SQLite and on PostgreSQL.
/// </summary>
public sealed class MonitoringApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    [Fact]
    public Task Adverse_events_label_earlier_predictions_on_sqlite() => LabelsAndMonitorsAsync(new Dictionary<string, string>());

    [Fact]
    public async Task Adverse_events_label_earlier_predictions_on_postgres()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        await LabelsAndMonitorsAsync(new Dictionary<string, string> { ["ConnectionStrings:Postgres"] = postgres.ConnectionString });
    }

    private static async Task LabelsAndMonitorsAsync(Dictionary<string, string> settings)
    {
        var ct = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        using var webhook = new FlakyWebhook(failures: 1);
        settings["Monitoring:LabelGrace"] = "12:00:00";
        settings["Monitoring:AlertWebhook"] = webhook.Url + "?token=secret";
        settings["Monitoring:WebhookRetryDelay"] = "00:00:00.050";
        await using var app = await ClinicalApp.StartAsync(data.Path, settings);
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA);
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        var served = (await PredictionLogTests.LoggedAsync(app.Http, trial.PatientIds[0], 1)).Single();

        // Three predictions of the same model, made at chosen times for patients of their own (the trial's patients
        // have adverse events of their own): one followed by an event 3 h later, one by nothing, one too recent to label.
        var store = app.Services.GetRequiredService<ITrackingStore>();
        var template = (await store.ReadPredictionsAsync(trial.PatientIds[0], 1, ct)).Single();
        var t = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-3).AddHours(9), TimeSpan.Zero);
        var (eventPatient, quietPatient, recentPatient) = (NewPatientId(), NewPatientId(), NewPatientId());
        PredictionRecord At(string patient, DateTimeOffset time) => template with { Id = Guid.NewGuid(), PatientId = patient, Timestamp = time };
        var (withEvent, quiet, recent) = (At(eventPatient, t), At(quietPatient, t), At(recentPatient, DateTimeOffset.UtcNow.AddHours(-1)));
        await store.WritePredictionsAsync([withEvent, quiet, recent], ct);

        await PostAdverseEventAsync(app.Http, eventPatient, onset: t.AddHours(3));
        var first = await RunAsync(app.Http);
        Assert.Equal("succeeded", first.GetProperty("status").GetString());

        var outcomes = await OutcomesAsync(app.Http, t);
        Assert.Equal(2, outcomes.Count);
        var positive = outcomes[withEvent.Id];
        Assert.Equal("positive", positive.GetProperty("outcome").GetProperty("label").GetString());
        Assert.Equal(t.AddHours(3), positive.GetProperty("outcome").GetProperty("event_onset").GetDateTimeOffset());
        Assert.Equal(eventPatient, positive.GetProperty("patient_id").GetString());
        Assert.Equal("negative", outcomes[quiet.Id].GetProperty("outcome").GetProperty("label").GetString());
        var everything = await (await app.Http.GetAsync("/api/monitoring/outcomes?from=2000-01-01", ct)).ExpectAsync(200);
        Assert.DoesNotContain(everything.EnumerateArray(), o => o.GetProperty("prediction_id").GetGuid() == recent.Id);

        // Reported late: the quiet patient had an event 5 h after the prediction after all.
        await PostAdverseEventAsync(app.Http, quietPatient, onset: t.AddHours(5));
        var second = await RunAsync(app.Http);
        var labelling = second.GetProperty("report").GetProperty("labelling");
        Assert.Equal(1, labelling.GetProperty("relabelled").GetInt64());
        Assert.Equal(1, labelling.GetProperty("labelled").GetInt64());
        var relabelled = (await OutcomesAsync(app.Http, t))[quiet.Id];
        Assert.Equal("positive", relabelled.GetProperty("outcome").GetProperty("label").GetString());
        Assert.Equal(["negative", "positive"], relabelled.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("label").GetString()));
        Assert.Single((await OutcomesAsync(app.Http, t))[withEvent.Id].GetProperty("history").EnumerateArray());

        // The latest report: the model's window (the served prediction and the three written), its drift, no verdict on two labels.
        var latest = await (await app.Http.GetAsync("/api/monitoring", ct)).ExpectAsync(200);
        Assert.Equal(second.GetProperty("run_id").GetString(), latest.GetProperty("run_id").GetString());
        var model = latest.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model_version").GetString() == TestModels.ModelA);
        Assert.Equal(4, model.GetProperty("predictions").GetInt64());
        Assert.Equal("insufficient_labels", model.GetProperty("performance").GetProperty("verdict").GetString());
        Assert.Equal(2, model.GetProperty("performance").GetProperty("labelled").GetInt64());
        Assert.Equal(4, model.GetProperty("drift").GetProperty("score").GetProperty("rows").GetInt64());
        Assert.Equal(template.Features.Length, model.GetProperty("drift").GetProperty("features").GetArrayLength());
        Assert.Equal(served.GetProperty("risk_level").GetString(), Assert.Single(model.GetProperty("risk_levels").EnumerateArray()).GetProperty("risk_level").GetString());

        // Four copies of one score against the training scores' bins: a score PSI alert at each run, the first delivered
        // on its second attempt (the webhook failed once), recorded without the webhook's token; the health says so.
        var alerts = latest.GetProperty("alerts").EnumerateArray().ToList();
        Assert.Contains(alerts, a => a.GetProperty("kind").GetString() == "score_psi" && a.GetProperty("model_version").GetString() == TestModels.ModelA);
        var firstDelivery = first.GetProperty("report").GetProperty("delivery");
        Assert.True(firstDelivery.GetProperty("delivered").GetBoolean());
        Assert.Equal(2, firstDelivery.GetProperty("attempts").GetInt32());
        Assert.Equal(webhook.Url, firstDelivery.GetProperty("target").GetString());
        Assert.Equal(1, latest.GetProperty("delivery").GetProperty("attempts").GetInt32());
        Assert.Equal(3, webhook.Received.Count);
        using (var posted = JsonDocument.Parse(webhook.Received[^1]))
        {
            Assert.Equal(latest.GetProperty("run_id").GetString(), posted.RootElement.GetProperty("run_id").GetString());
            Assert.Equal(alerts.Count, posted.RootElement.GetProperty("alerts").GetArrayLength());
            Assert.DoesNotContain(eventPatient, webhook.Received[^1], StringComparison.Ordinal);
        }

        var health = await (await app.Http.GetAsync("/api/clinical/health", ct)).ReadJsonAsync();
        var monitoringHealth = health.GetProperty("components").GetProperty("model_monitoring");
        Assert.Equal("degraded", monitoringHealth.GetProperty("status").GetString());

        var runs = await (await app.Http.GetAsync("/api/monitoring/runs", ct)).ExpectAsync(200);
        Assert.Equal([second.GetProperty("run_id").GetString(), first.GetProperty("run_id").GetString()],
            runs.EnumerateArray().Select(r => r.GetProperty("run_id").GetString()));

        var metrics = await PrometheusText.ScrapeAsync(app.Http);
        Assert.Equal(2, metrics.Sum("clinical_model_labelled_predictions", ("model_version", TestModels.ModelA)));
        Assert.True(metrics.Has("clinical_model_score_psi"));
        Assert.True(metrics.Has("clinical_model_feature_psi_max"));
        Assert.True(metrics.Sum("clinical_model_monitoring_alerts", ("model_version", TestModels.ModelA), ("kind", "score_psi")) >= 1);

        // Each run's report, stored beside it: the Markdown with its alerts and no verdict on two labels, and its figure.
        var runId = second.GetProperty("run_id").GetString()!;
        var markdown = await MarkdownAsync(app.Http, runId);
        Assert.Contains($"# Monitoring run {runId}", markdown, StringComparison.Ordinal);
        Assert.All(alerts, a => Assert.Contains(a.GetProperty("message").GetString()!, markdown, StringComparison.Ordinal));
        Assert.Contains($"No verdict: {model.GetProperty("performance").GetProperty("reason").GetString()}", markdown, StringComparison.Ordinal);
        await AssertFigureAsync(app.Http, runId, latest.GetProperty("models").GetArrayLength());
        await (await app.Http.GetAsync("/api/monitoring/runs/20000101-000000-00000000/report.md", ct)).ExpectAsync(404);
        await (await app.Http.GetAsync("/api/monitoring/runs/20000101-000000-00000000/report.png", ct)).ExpectAsync(404);

        // 240 recent predictions, labelled here (too recent for the labelling to change them): a verdict, whose AUROC and
        // interval the Markdown report gives.
        var labelled = Enumerable.Range(0, 240).Select(i => (Prediction: At(NewPatientId(), DateTimeOffset.UtcNow.AddHours(-2)) with
            { PredictionScore = (i % 2 == 0 ? 0.3 : 0.1) + 0.6 * i / 240.0 }, Positive: i % 2 == 0)).ToList();
        await store.WritePredictionsAsync([.. labelled.Select(l => l.Prediction)], ct);
        await store.WriteOutcomesAsync([.. labelled.Select(l => new PredictionOutcome(l.Prediction.Id,
            l.Positive ? OutcomeLabel.Positive : OutcomeLabel.Negative, null, DateTimeOffset.UtcNow))], ct);
        var third = await RunAsync(app.Http);
        var performance = third.GetProperty("report").GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("model_version").GetString() == TestModels.ModelA).GetProperty("performance");
        Assert.Equal("evaluated", performance.GetProperty("verdict").GetString());
        string F(string name) => performance.GetProperty(name).GetDouble().ToString("0.0000", CultureInfo.InvariantCulture);
        var thirdId = third.GetProperty("run_id").GetString()!;
        Assert.Contains($"| all sites | 242 | {performance.GetProperty("positives").GetInt64()} | {F("auroc")} | {F("auroc_lower")}-{F("auroc_upper")} |",
            await MarkdownAsync(app.Http, thirdId), StringComparison.Ordinal);
        await AssertFigureAsync(app.Http, thirdId, third.GetProperty("report").GetProperty("models").GetArrayLength());
    }

    private static async Task<string> MarkdownAsync(HttpClient http, string runId)
    {
        using var response = await http.GetAsync($"/api/monitoring/runs/{runId}/report.md", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/markdown", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A PNG (its signature) of the figure's size for the run's model versions, with more than a blank canvas in it.</summary>
    private static async Task AssertFigureAsync(HttpClient http, string runId, int models)
    {
        using var response = await http.GetAsync($"/api/monitoring/runs/{runId}/report.png", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var png = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal(MonitoringPlots.Size(models), (bitmap.Width, bitmap.Height));
        Assert.True(bitmap.Pixels.Distinct().Count() > 20, "the figure is (nearly) blank");
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2026-11-20&to=2026-11-19", "to")]
    [InlineData("model_version=..", "model_version")]
    [InlineData("limit=0", "limit")]
    public async Task Bad_outcome_queries_are_400_naming_the_field(string query, string field)
    {
        var problem = await (await app.Http.GetAsync($"/api/monitoring/outcomes?{query}", TestContext.Current.CancellationToken)).ExpectAsync(400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Without_a_run_the_latest_report_is_404()
    {
        await (await app.Http.GetAsync("/api/monitoring/runs", TestContext.Current.CancellationToken)).ExpectAsync(200);
        await (await app.Http.GetAsync("/api/monitoring", TestContext.Current.CancellationToken)).ExpectAsync(404);
    }

    /// <summary>Silver first (labels read adverse events from it), then the monitoring run.</summary>
    private static async Task<JsonElement> RunAsync(HttpClient http)
    {
        await (await http.PostAsync("/api/pipeline/jobs/bronze-to-silver/run", null, TestContext.Current.CancellationToken)).ExpectAsync(200);
        return await (await http.PostAsync("/api/monitoring/run", null, TestContext.Current.CancellationToken)).ExpectAsync(200);
    }

    private static async Task<Dictionary<Guid, JsonElement>> OutcomesAsync(HttpClient http, DateTimeOffset t)
    {
        var from = Uri.EscapeDataString(t.AddHours(-1).ToString("O", CultureInfo.InvariantCulture));
        var to = Uri.EscapeDataString(t.AddHours(1).ToString("O", CultureInfo.InvariantCulture));
        var rows = await (await http.GetAsync($"/api/monitoring/outcomes?model_version={TestModels.ModelA}&from={from}&to={to}", TestContext.Current.CancellationToken)).ExpectAsync(200);
        return rows.EnumerateArray().ToDictionary(r => r.GetProperty("prediction_id").GetGuid());
    }

    private static async Task PostAdverseEventAsync(HttpClient http, string patient, DateTimeOffset onset)
    {
        var message = new JsonObject
        {
            ["message_id"] = Guid.NewGuid().ToString(),
            ["timestamp"] = onset.AddHours(1).ToString("O", CultureInfo.InvariantCulture),
            ["study_phase"] = "Phase II",
            ["site_id"] = "SITE001",
            ["adverse_event"] = new JsonObject
            {
                ["patient_id"] = patient,
                ["event_term"] = "NAUSEA",
                ["severity"] = "MILD",
                ["serious"] = false,
                ["relation_to_study_drug"] = "POSSIBLE",
                ["onset"] = onset.ToString("O", CultureInfo.InvariantCulture),
            },
        };
        await (await http.PostAsync("/api/clinical/data", Json(message), TestContext.Current.CancellationToken)).ExpectAsync(202);
    }
}

/// <summary>A webhook receiver on a loopback port that answers 503 to its first <c>failures</c> posts, then 204; keeps every body.</summary>
internal sealed class FlakyWebhook : IDisposable
{
    private readonly System.Net.HttpListener _listener = new();
    private int _failures;

    public FlakyWebhook(int failures)
    {
        _failures = failures;
        Url = $"http://127.0.0.1:{FreePorts.Next()}/hooks/monitoring";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = ServeAsync();
    }

    public string Url { get; }

    public List<string> Received { get; } = [];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            System.Net.HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream))
            {
                var body = await reader.ReadToEndAsync();
                lock (Received)
                {
                    Received.Add(body);
                }
            }

            context.Response.StatusCode = Interlocked.Decrement(ref _failures) >= 0 ? 503 : 204;
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
