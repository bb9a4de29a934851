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
}
