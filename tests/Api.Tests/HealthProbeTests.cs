using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Grains.Journal;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Tests;

/// <summary>The standard probes: live while the process answers, ready only while the journal takes writes.</summary>
public sealed class HealthProbeTests
{
    [Fact]
    public async Task A_journal_that_cannot_write_makes_the_silo_unready_but_alive_until_it_writes_again()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        var faults = new SwitchableFaults();
        await using var app = await ClinicalApp.StartAsync(data.Path, services: s => s.AddSingleton<JournalFaults>(faults));

        Assert.Equal(200, (int)(await app.Http.GetAsync("/health/live", cancellation)).StatusCode);
        Assert.Equal(200, (int)(await app.Http.GetAsync("/health/ready", cancellation)).StatusCode);
        var healthy = await (await app.Http.GetAsync("/api/clinical/health", cancellation)).ExpectAsync(200);
        Assert.Equal("healthy", healthy.GetProperty("components").GetProperty("journal").GetProperty("status").GetString());
        Assert.Equal("disabled", healthy.GetProperty("components").GetProperty("online_store").GetProperty("status").GetString());

        faults.Failing = true;
        await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals()), cancellation)).ExpectAsync(503);
        Assert.Equal(200, (int)(await app.Http.GetAsync("/health/live", cancellation)).StatusCode);
        Assert.Equal(503, (int)(await app.Http.GetAsync("/health/ready", cancellation)).StatusCode);
        var failed = await app.Http.GetAsync("/api/clinical/health", cancellation);
        Assert.Equal(503, (int)failed.StatusCode);
        var report = await failed.ReadJsonAsync();
        Assert.Equal("unhealthy", report.GetProperty("status").GetString());
        Assert.Equal("unhealthy", report.GetProperty("components").GetProperty("journal").GetProperty("status").GetString());
        Assert.Equal("healthy", report.GetProperty("components").GetProperty("grains").GetProperty("status").GetString());

        faults.Failing = false;
        Assert.Equal(200, (int)(await app.Http.GetAsync("/health/ready", cancellation)).StatusCode);
        await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals()), cancellation)).ExpectAsync(202);
    }

    /// <summary>Fails the repair step that every commit and every write probe starts with, while <see cref="Failing"/>.</summary>
    private sealed class SwitchableFaults : JournalFaults
    {
        public volatile bool Failing;

        public override void At(CommitStep step)
        {
            if (Failing && step == CommitStep.Repair)
            {
                throw new IOException("Injected: the data directory does not take writes.");
            }
        }
    }
}
