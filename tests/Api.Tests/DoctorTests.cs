using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>The pipeline doctor names what is wrong: all pass on a whole platform; S3, Redis and the model each named when away.</summary>
public sealed class DoctorTests(ServingAppFixture fixture) : IClassFixture<ServingAppFixture>
{
    [Fact]
    public async Task Every_check_passes_on_a_whole_platform_and_the_command_exits_0()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var report = await (await fixture.App.Http.GetAsync("/api/pipeline/doctor", cancellation)).ExpectAsync(200);

        var checks = Checks(report);
        Assert.All(checks, c => Assert.True(c.Value.Status == "pass", $"{c.Key}: {c.Value.Status} {c.Value.Figure}"));
        Assert.Equal("pass", report.GetProperty("status").GetString());
        Assert.Equal(
            ["data_directory", "lake_storage", "redis", "postgres", "journal", "kafka", "amqp", "messages", "bronze", "silver", "offline_features", "online_store", "model", "prediction_log", "metrics"],
            checks.Keys);
        Assert.Contains(ServingAppFixture.ModelVersion, checks["model"].Figure, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable(TestRedis.Variable) is { Length: > 0 })
        {
            Assert.Contains("PING", checks["redis"].Figure, StringComparison.Ordinal);
        }

        // The fixture ran both jobs after its last message: nothing waits for them.
        Assert.Contains("0 bronze files (0.0 MiB) not yet in silver", checks["silver"].Figure, StringComparison.Ordinal);
        Assert.Contains("0 silver dates not yet in the offline features", checks["offline_features"].Figure, StringComparison.Ordinal);
        Assert.Contains(" sealed (hour over), ", checks["bronze"].Figure, StringComparison.Ordinal);

        var layers = report.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("layer").GetString()!, l => l.GetProperty("rows").GetInt64());
        Assert.Equal(fixture.Trial.Bodies.Count, layers["bronze"]);
        Assert.True(layers["silver"] > 0 && layers["offline_features"] > 0);

        var (exitCode, output) = await SiloProcess.RunToExitAsync(cancellation, "doctor", "--urls", fixture.App.Http.BaseAddress!.ToString().TrimEnd('/'));
        Assert.True(exitCode == 0, output);
        Assert.Contains("PASS: 15 checks, 0 failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task S3_Redis_and_the_AMQP_broker_stopped_and_no_model_are_each_named_and_the_command_exits_1()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        var closedS3 = $"http://127.0.0.1:{FreePorts.Next()}";
        var closedRedis = $"127.0.0.1:{FreePorts.Next()}";
        var closedAmqp = $"amqp://guest:guest@127.0.0.1:{FreePorts.Next()}";
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string>
        {
            ["Pipeline:ScheduleEnabled"] = "false",
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = closedS3,
            ["Storage:S3:Bucket"] = "doctor-test",
            ["Storage:S3:AccessKey"] = "test",
            ["Storage:S3:SecretKey"] = "test",
            ["ConnectionStrings:Redis"] = closedRedis,
            ["Brokers:Amqp:Address"] = closedAmqp,
        });

        // The AMQP ingress says "connecting" until its first attempt has been refused.
        var report = await Eventually.UntilAsync(async () => await (await app.Http.GetAsync("/api/pipeline/doctor", cancellation)).ExpectAsync(200),
            r => Checks(r)["amqp"].Status != "warn", TimeSpan.FromSeconds(30), "the AMQP ingress's first connection attempt to end");

        var checks = Checks(report);
        Assert.Equal("fail", report.GetProperty("status").GetString());
        Assert.Equal(["lake_storage", "redis", "amqp", "silver", "offline_features", "model"], checks.Where(c => c.Value.Status == "fail").Select(c => c.Key));
        Assert.Contains("Brokers:Amqp:Address", checks["amqp"].Hint, StringComparison.Ordinal);
        Assert.Contains("S3", checks["lake_storage"].Hint, StringComparison.Ordinal);
        Assert.Contains(closedRedis, checks["redis"].Figure, StringComparison.Ordinal);
        Assert.Contains("Train", checks["model"].Hint, StringComparison.Ordinal);
        Assert.Equal("pass", checks["data_directory"].Status);
        Assert.Equal("pass", checks["journal"].Status);
        Assert.Equal("pass", checks["metrics"].Status);

        var (exitCode, output) = await SiloProcess.RunToExitAsync(cancellation, "doctor", "--urls", app.Http.BaseAddress!.ToString().TrimEnd('/'));
        Assert.True(exitCode == 1, output);
        Assert.Contains("FAIL  lake_storage", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bronze_that_silver_has_not_taken_is_counted_until_bronze_to_silver_runs()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string> { ["Pipeline:ScheduleEnabled"] = "false" });
        var (patient, site) = (TestMessages.NewPatientId(), TestMessages.NewSiteId());
        await (await app.Http.PostAsync("/api/clinical/data", TestMessages.Json(TestMessages.Vitals(patient, site)), cancellation)).ExpectAsync(202);

        var before = Checks(await (await app.Http.GetAsync("/api/pipeline/doctor", cancellation)).ExpectAsync(200))["silver"];
        await (await app.Http.PostAsync("/api/pipeline/jobs/bronze-to-silver/run", null, cancellation)).ExpectAsync(200);
        var after = Checks(await (await app.Http.GetAsync("/api/pipeline/doctor", cancellation)).ExpectAsync(200))["silver"];

        Assert.Equal("warn", before.Status);
        Assert.Matches(@"; 1 bronze files \(0\.0 MiB\) not yet in silver; bronze-to-silver never ran", before.Figure);
        Assert.Equal("pass", after.Status);
        Assert.Contains("; 0 bronze files (0.0 MiB) not yet in silver; last bronze-to-silver run succeeded", after.Figure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_command_fails_with_a_hint_when_no_silo_answers()
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken, "doctor", "--urls", $"http://127.0.0.1:{FreePorts.Next()}");

        Assert.True(exitCode == 1, output);
        Assert.Contains("FAIL  silo: no answer", output, StringComparison.Ordinal);
    }

    private static Dictionary<string, (string Status, string Figure, string? Hint)> Checks(JsonElement report) =>
        report.GetProperty("checks").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!,
            c => (c.GetProperty("status").GetString()!, c.GetProperty("figure").GetString()!,
                c.TryGetProperty("hint", out var hint) ? hint.GetString() : null));
}
