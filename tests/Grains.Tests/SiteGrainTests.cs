using ClinicalTrials.Grains.Interfaces;
using static ClinicalTrials.Grains.Tests.TestMessages;

namespace ClinicalTrials.Grains.Tests;

public sealed class SiteGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClinicalCluster _cluster = fixture.Cluster;

    /// <summary>Two accepted, one duplicate and three rejected messages (two reasons) from one site.</summary>
    private async Task<string> SendMixAsync()
    {
        var site = NewSiteId();
        var at = DateTimeOffset.UtcNow.AddMinutes(-30);
        var accepted = Vitals(NewPatientId(), site, at, 72).ToJsonString();
        var noId = Vitals(NewPatientId(), site, at, 72);
        noId.Remove("message_id");
        await _cluster.IngestAsync(
            accepted,
            Labs(NewPatientId(), site, at, "GLUC", 99, "mg/dL").ToJsonString(),
            Vitals(NewPatientId(), site, at, 400).ToJsonString(),
            Labs(NewPatientId(), site, at, "GLUC", 5, "stones").ToJsonString(),
            noId.ToJsonString());
        await _cluster.IngestAsync(accepted);
        return site;
    }

    private static void AssertMix(SiteSummary summary)
    {
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 1, ["lab_results"] = 1 }, summary.Accepted);
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 1 }, summary.Duplicates);
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 2, ["lab_results"] = 1 }, summary.Rejected);
        Assert.Equal(
            new Dictionary<string, int>
            {
                ["vital_signs.heart_rate:range"] = 1,
                ["lab_results.results[].unit:unknown_unit"] = 1,
                ["message_id:required"] = 1,
            },
            summary.RejectionReasons);
        Assert.NotNull(summary.LastReceivedAt);
    }

    [Fact]
    public async Task Site_counts_accepted_rejected_duplicates_and_rejection_reasons()
    {
        var site = await SendMixAsync();

        AssertMix(await _cluster.Client.GetGrain<ISiteGrain>(site).GetSummaryAsync());
    }

    [Fact]
    public async Task Site_counts_equal_the_journal_counters()
    {
        var site = await SendMixAsync();

        var counters = await _cluster.Journal.CountersAsync(site);
        var summary = await _cluster.Client.GetGrain<ISiteGrain>(site).GetSummaryAsync();
        Assert.Equal(summary.Accepted.Values.Sum(), counters.Counters.Where(c => c.Outcome == "accepted").Sum(c => c.Count));
        Assert.Equal(summary.Duplicates.Values.Sum(), counters.Counters.Where(c => c.Outcome == "duplicate").Sum(c => c.Count));
        Assert.Equal(summary.Rejected.Values.Sum(), counters.Counters.Where(c => c.Outcome == "rejected").Sum(c => c.Count));
    }

    [Fact]
    public async Task Site_counts_are_not_doubled_after_reactivation()
    {
        var site = await SendMixAsync();
        var grain = _cluster.Client.GetGrain<ISiteGrain>(site);
        AssertMix(await grain.GetSummaryAsync());

        await _cluster.DeactivateAsync(grain);

        var reloaded = await grain.GetSummaryAsync();
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 1, ["lab_results"] = 1 }, reloaded.Accepted);
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 1 }, reloaded.Duplicates);
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 2, ["lab_results"] = 1 }, reloaded.Rejected);
        Assert.Equal(3, reloaded.RejectionReasons.Count);
    }

    [Fact]
    public async Task Tally_of_the_commit_that_reactivates_the_site_is_counted_once()
    {
        var site = NewSiteId();
        var grain = _cluster.Client.GetGrain<ISiteGrain>(site);
        await _cluster.IngestAsync(Vitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5), 72).ToJsonString());
        Assert.Equal(1, (await grain.GetSummaryAsync()).Accepted["vital_signs"]);
        await _cluster.DeactivateAsync(grain);

        // The tally of this commit activates the grain, whose load from the journal already includes the commit.
        await _cluster.IngestAsync(Vitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5), 73).ToJsonString());

        Assert.Equal(2, (await grain.GetSummaryAsync()).Accepted["vital_signs"]);
    }

    [Fact]
    public async Task Abnormal_values_are_counted_per_site()
    {
        var site = NewSiteId();

        await _cluster.IngestAsync(Vitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5), 150).ToJsonString());

        Assert.Equal(1, (await _cluster.Client.GetGrain<ISiteGrain>(site).GetSummaryAsync()).AbnormalFlags);
    }
}
