using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// A whole platform: the synthetic trial taken in (every message valid), silver and offline features built, model A
/// served under a version of its own, and Redis and PostgreSQL (prediction log) when the test script provides them.
/// Other test classes' apps in this process report to the same meters, so counts are asserted only under labels no
/// other test uses (this version, a new site).
/// </summary>
public sealed class ServingAppFixture : IAsyncLifetime
{
    public const string ModelVersion = "model-a-serving";

    private readonly DataDirectory _data = new();
    private ClinicalApp? _app;
    private TestPostgres? _postgres;

    internal ClinicalApp App => _app ?? throw new InvalidOperationException("Not started.");

    internal TestModels.Trial Trial { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var settings = new Dictionary<string, string> { ["Pipeline:ScheduleEnabled"] = "false" };
        if (Environment.GetEnvironmentVariable(TestRedis.Variable) is { Length: > 0 } redis)
        {
            settings["ConnectionStrings:Redis"] = redis;
        }

        if (Environment.GetEnvironmentVariable(TestPostgres.Variable) is { Length: > 0 })
        {
            _postgres = await TestPostgres.CreateDatabaseAsync();
            settings["ConnectionStrings:Postgres"] = _postgres.ConnectionString;
        }

        _app = await ClinicalApp.StartAsync(_data.Path, settings);
        Trial = await TestModels.LoadIntoAsync(_app.Http, _data.Path);
        TestModels.CopyModel(Trial, TestModels.ModelA, _data.Path, ModelVersion);
        await (await _app.Http.PromoteAsync(ModelVersion)).ExpectAsync(200);
        foreach (var job in new[] { "bronze-to-silver", "offline-features" })
        {
            var run = await (await _app.Http.PostAsync($"/api/pipeline/jobs/{job}/run", null, TestContext.Current.CancellationToken)).ExpectAsync(200);
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _data.Dispose();
    }
}

/// <summary><c>GET /metrics</c> after a known workload: the counters say what happened, and no label names a patient.</summary>
public sealed class MetricsTests(ServingAppFixture fixture) : IClassFixture<ServingAppFixture>
{
    private readonly HttpClient _http = fixture.App.Http;

    [Fact]
    public async Task Ingest_outcomes_journal_commits_and_predictions_are_counted_without_patient_labels()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var site = NewSiteId();
        var first = Vitals(siteId: site);
        var second = Vitals(siteId: site);
        await (await _http.PostAsync("/api/clinical/data", Json(first), cancellation)).ExpectAsync(202);
        await (await _http.PostAsync("/api/clinical/data", Json(second), cancellation)).ExpectAsync(202);
        await (await _http.PostAsync("/api/clinical/data", Json(first), cancellation)).ExpectAsync(200);
        var invalid = HeartRateOnly(900, site);
        await (await _http.PostAsync("/api/clinical/data", Json(invalid), cancellation)).ExpectAsync(400);
        var patients = fixture.Trial.PatientIds.Take(3).ToList();
        foreach (var patient in patients)
        {
            await (await _http.PredictAsync(patient)).ExpectAsync(200);
        }

        var metrics = await Eventually.UntilAsync(async () =>
        {
            var scraped = await PrometheusText.ScrapeAsync(_http);
            return scraped.Sum("clinical_prediction_duration_seconds_count", ("model_version", ServingAppFixture.ModelVersion)) >= patients.Count ? scraped : null;
        }, TimeSpan.FromSeconds(10), "the predictions in /metrics");

        Assert.Equal(2, metrics.Sum("clinical_ingest_messages_total", ("site", site), ("outcome", "accepted"), ("payload_type", "vital_signs")));
        Assert.Equal(1, metrics.Sum("clinical_ingest_messages_total", ("site", site), ("outcome", "duplicate")));
        Assert.Equal(1, metrics.Sum("clinical_ingest_messages_total", ("site", site), ("outcome", "rejected")));
        Assert.Equal(1, metrics.Sum("clinical_ingest_violations_total", ("site", site), ("rule", "range")));

        // Every accepted or rejected message went through a commit; a duplicate is decided inside one.
        Assert.True(metrics.Sum("clinical_journal_commit_size_sum") >= fixture.Trial.Bodies.Count + 4);
        Assert.True(metrics.Sum("clinical_journal_commit_duration_seconds_count", ("outcome", "committed")) >= 4);
        Assert.True(metrics.Has("clinical_journal_queue_depth"));
        Assert.True(metrics.Sum("clinical_patients_active") >= TestModels.Patients + 2);
        Assert.True(metrics.Sum("clinical_features_update_duration_seconds_count") >= 2);

        Assert.Equal(patients.Count, metrics.Sum("clinical_prediction_duration_seconds_count", ("model_version", ServingAppFixture.ModelVersion)));
        Assert.Equal(1, metrics.Sum("clinical_model_served", ("model_version", ServingAppFixture.ModelVersion)));
        Assert.True(metrics.Has("clinical_prediction_log_queue_depth"));
        Assert.True(metrics.Sum("clinical_lake_job_runs_total", ("job", "bronze-to-silver"), ("status", "succeeded")) >= 1);
        Assert.True(metrics.Sum("clinical_lake_job_rows_total", ("job", "bronze-to-silver"), ("direction", "in")) >= fixture.Trial.Bodies.Count);

        // The platform's neighbours: ASP.NET Core's requests by route and status, Orleans' and the runtime's meters.
        Assert.True(metrics.Sum("http_server_request_duration_seconds_count", ("http_route", "/api/clinical/data"), ("http_response_status_code", "400")) >= 1);
        Assert.Contains(metrics.Text.Split('\n'), line => line.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains(metrics.Text.Split('\n'), line => line.StartsWith("dotnet_gc_", StringComparison.Ordinal));

        foreach (var patient in fixture.Trial.PatientIds.Concat([(string)first["vital_signs"]!["patient_id"]!]))
        {
            Assert.DoesNotContain(patient, metrics.Text, StringComparison.Ordinal);
        }
    }
}
