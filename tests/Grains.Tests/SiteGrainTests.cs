using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Tests;

public sealed class SiteGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClinicalCluster _cluster = fixture.Cluster;

    /// <summary>
    /// Four accepted messages (two with an issue of a single value), one duplicate, and two rejected messages, from one
    /// site: the issues of accepted messages are counted with the rejection reasons (docs/labs.md).
    /// </summary>
    private async Task<string> SendMixAsync()
    {
        var site = NewSiteId();
        var at = DateTimeOffset.UtcNow.AddMinutes(-30);
        var accepted = Vitals(NewPatientId(), site, at, 72).ToJsonString();
        var noId = Vitals(NewPatientId(), site, at, 72);
        noId.Remove("message_id");
        var withUnknownUnit = Labs(NewPatientId(), site, at, "GLUC", 5, "stones").ToJsonString();
        await _cluster.IngestAsync(
            accepted,
            Labs(NewPatientId(), site, at, "GLUC", 99, "mg/dL").ToJsonString(),
            Vitals(NewPatientId(), site, at, 400).ToJsonString(),
            withUnknownUnit,
            Labs(NewPatientId(), site, at, "GLUC", 5000, "mg/dL").ToJsonString(),
            noId.ToJsonString());
        await _cluster.IngestAsync(accepted);
        return site;
    }

    private static void AssertMix(SiteSummary summary, bool reloaded = false)
    {
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 2, ["lab_results"] = 2 }, summary.Accepted);
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 1 }, summary.Duplicates);
        Assert.Equal(new Dictionary<string, int> { ["vital_signs"] = 1, ["lab_results"] = 1 }, summary.Rejected);
        Assert.Equal(
            new Dictionary<string, int>
            {
                ["vital_signs.heart_rate:range"] = 1,
                ["lab_results.results[].unit:unknown_unit"] = 1,
                ["lab_results.results[].value:range"] = 1,
                ["message_id:required"] = 1,
            },
            summary.RejectionReasons);
        Assert.Equal(reloaded, summary.LastReceivedAt is null); // not kept in the journal's counters
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
        Assert.Equal(summary.RejectionReasons.OrderBy(r => r.Key), counters.Reasons
            .Select(r => KeyValuePair.Create($"{r.Field}:{r.Rule}", (int)r.Count)).OrderBy(r => r.Key));
    }

    [Fact]
    public async Task Site_counts_are_not_doubled_after_reactivation()
    {
        var site = await SendMixAsync();
        var grain = _cluster.Client.GetGrain<ISiteGrain>(site);
        AssertMix(await grain.GetSummaryAsync());

        await _cluster.DeactivateAsync(grain);

        var reloaded = await grain.GetSummaryAsync();
        AssertMix(reloaded, reloaded: true);
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
