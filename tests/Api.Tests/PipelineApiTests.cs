using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary><c>/api/pipeline</c>: on-demand job runs through the job grain, the run records and the layer counts.</summary>
public sealed class PipelineApiTests : IAsyncLifetime
{
    private readonly DataDirectory _data = new();
    private ClinicalApp? _app;

    private HttpClient Http => _app!.Http;

    // The schedule is off so that no reminder runs a job between the test's own steps.
    public async ValueTask InitializeAsync() =>
        _app = await ClinicalApp.StartAsync(_data.Path, new Dictionary<string, string> { ["Pipeline:ScheduleEnabled"] = "false" });

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _data.Dispose();
    }

    [Fact]
    public async Task Run_returns_the_record_and_jobs_and_status_show_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var patient = NewPatientId();
        for (var i = 0; i < 3; i++)
        {
            await (await Http.PostAsync("/api/clinical/data", Json(Vitals(patient, at: DateTimeOffset.UtcNow.AddMinutes(-10 - i))), ct)).ExpectAsync(202);
        }

        var run = await (await Http.PostAsync("/api/pipeline/jobs/bronze-to-silver/run", null, ct)).ExpectAsync(200);
        var again = await (await Http.PostAsync("/api/pipeline/jobs/bronze-to-silver/run", null, ct)).ExpectAsync(200);
        var jobs = await (await Http.GetAsync("/api/pipeline/jobs", ct)).ExpectAsync(200);
        var status = await (await Http.GetAsync("/api/pipeline/status", ct)).ExpectAsync(200);

        Assert.Equal("bronze-to-silver", run.GetProperty("job").GetString());
        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        Assert.Equal(3, run.GetProperty("rows_in").GetInt64());
        Assert.Equal(3, run.GetProperty("rows_out").GetInt64());
        Assert.True(run.GetProperty("ended_at").GetDateTimeOffset() >= run.GetProperty("started_at").GetDateTimeOffset());
        Assert.Equal(1, run.GetProperty("details").GetProperty("silver_files_written").GetInt64());
        Assert.Equal(0, again.GetProperty("rows_in").GetInt64());

        var names = jobs.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("name").GetString()).ToList();
        Assert.Equal(["bronze-to-silver", "offline-features", "retention"], names);
        var runs = jobs.GetProperty("jobs")[0].GetProperty("runs");
        Assert.Equal(2, runs.GetArrayLength());
        Assert.Equal(again.GetProperty("id").GetInt64(), runs[0].GetProperty("id").GetInt64());
        Assert.Equal(run.GetProperty("details").GetRawText(), runs[1].GetProperty("details").GetRawText());

        var layers = status.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("layer").GetString()!);
        Assert.Equal(3, layers["bronze"].GetProperty("rows").GetInt64());
        Assert.Equal(1, layers["silver"].GetProperty("files").GetInt64());
        Assert.Equal(3, layers["silver"].GetProperty("rows").GetInt64());
        Assert.StartsWith("date=", layers["silver"].GetProperty("latest_partition").GetString());
        Assert.StartsWith("local ", status.GetProperty("storage").GetString());
    }

    [Fact]
    public async Task Offline_features_and_retention_run_on_demand()
    {
        var ct = TestContext.Current.CancellationToken;
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var features = await (await Http.PostAsync($"/api/pipeline/jobs/offline-features/run?from={today}&to={today}", null, ct)).ExpectAsync(200);
        var retention = await (await Http.PostAsync("/api/pipeline/jobs/retention/run", null, ct)).ExpectAsync(200);

        Assert.Equal("succeeded", features.GetProperty("status").GetString());
        Assert.Equal("succeeded", retention.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_job_is_404_and_a_bad_date_is_400()
    {
        var ct = TestContext.Current.CancellationToken;
        await (await Http.PostAsync("/api/pipeline/jobs/no-such-job/run", null, ct)).ExpectAsync(404);
        var problem = await (await Http.PostAsync("/api/pipeline/jobs/offline-features/run?from=yesterday", null, ct)).ExpectAsync(400);
        Assert.True(problem.GetProperty("errors").TryGetProperty("from", out _));
    }

    [Theory]
    [InlineData("from=0001-01-01&to=9999-12-31", "to", "at most 366 days")]
    [InlineData("from=2026-03-01&to=2027-03-02", "to", "at most 366 days")]
    [InlineData("from=2026-03-07&to=2026-03-01", "to", "must not be before 'from'")]
    [InlineData("to=2026-03-01", "from", "'to' needs 'from'")]
    [InlineData("from=9999-12-31", "to", "must not be after tomorrow")]
    public async Task A_backfill_range_that_cannot_run_is_400_naming_the_field_and_rule(string query, string field, string rule)
    {
        var ct = TestContext.Current.CancellationToken;
        var runsBefore = (await (await Http.GetAsync("/api/pipeline/jobs", ct)).ExpectAsync(200)).GetProperty("jobs")[1].GetProperty("runs").GetArrayLength();

        var problem = await (await Http.PostAsync($"/api/pipeline/jobs/offline-features/run?{query}", null, ct)).ExpectAsync(400);

        Assert.Contains(rule, string.Join(" ", problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString())), StringComparison.Ordinal);
        var runsAfter = (await (await Http.GetAsync("/api/pipeline/jobs", ct)).ExpectAsync(200)).GetProperty("jobs")[1].GetProperty("runs").GetArrayLength();
        Assert.Equal(runsBefore, runsAfter);
    }

    [Fact]
    public async Task With_s3_unreachable_models_promotion_and_status_are_503_problems()
    {
        var ct = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string>
        {
            ["Pipeline:ScheduleEnabled"] = "false",
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{FreePorts.Next()}",
            ["Storage:S3:Bucket"] = "lake",
            ["Storage:S3:AccessKey"] = "key",
            ["Storage:S3:SecretKey"] = "secret",
        });

        var models = await (await app.Http.GetAsync("/api/models", ct)).ExpectAsync(503);
        var promote = await (await app.Http.PromoteAsync("some-model")).ExpectAsync(503);
        var status = await (await app.Http.GetAsync("/api/pipeline/status", ct)).ExpectAsync(503);

        Assert.All([models, promote, status], p => Assert.Contains("lake storage", p.GetProperty("detail").GetString(), StringComparison.Ordinal));
        await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals(NewPatientId())), ct)).ExpectAsync(202);
    }
}
