using ClinicalTrials.Api.Tests.Hosting;
using static ClinicalTrials.Api.Tests.TestMessages;

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
        Assert.Equal(0, again.GetProperty("rows_in").GetInt64());

        var names = jobs.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("name").GetString()).ToList();
        Assert.Equal(["bronze-to-silver", "offline-features", "retention"], names);
        var runs = jobs.GetProperty("jobs")[0].GetProperty("runs");
        Assert.Equal(2, runs.GetArrayLength());
        Assert.Equal(again.GetProperty("id").GetInt64(), runs[0].GetProperty("id").GetInt64());

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
}
