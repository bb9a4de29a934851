using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>The silo is ready when it has started: the journal's recovery and filters do not wait for a first request.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Silo_opens_its_journal_before_the_first_request()
    {
        using var data = new DataDirectory();

        await using var app = await ClinicalApp.StartAsync(data.Path);

        Assert.True(File.Exists(Path.Combine(data.Path, "ledger.db")), "the ledger was not opened at start");
    }

    [Fact]
    public async Task Silo_starts_and_ingests_while_the_prediction_log_database_does_not_answer()
    {
        using var data = new DataDirectory();
        var nowhere = $"Host=127.0.0.1;Port={FreePorts.Next()};Username=postgres;Database=postgres";

        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string> { ["ConnectionStrings:Postgres"] = nowhere });

        await (await app.Http.PostAsync("/api/clinical/data", TestMessages.Json(TestMessages.Vitals()), TestContext.Current.CancellationToken)).ExpectAsync(202);
        var health = await (await app.Http.GetAsync("/api/clinical/health", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal("degraded", health.GetProperty("components").GetProperty("prediction_log").GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("components").GetProperty("journal").GetProperty("status").GetString());
        await (await app.Http.GetAsync("/api/models/runs", TestContext.Current.CancellationToken)).ExpectAsync(503);
    }
}
