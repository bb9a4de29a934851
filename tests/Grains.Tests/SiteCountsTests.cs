using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

public sealed class SiteCountsTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
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

    private async Task<SiteSummary> SiteAsync(string site) => SiteSummary.From(site, await _cluster.Journal.CountersAsync(site));

    [Fact]
    public async Task Site_counts_accepted_rejected_duplicates_and_rejection_reasons()
    {
        var site = await SendMixAsync();

        var summary = await SiteAsync(site);

        Assert.Equal(new Dictionary<string, long> { ["lab_results"] = 2, ["vital_signs"] = 2 }, summary.Accepted);
        Assert.Equal(new Dictionary<string, long> { ["vital_signs"] = 1 }, summary.Duplicates);
        Assert.Equal(new Dictionary<string, long> { ["lab_results"] = 1, ["vital_signs"] = 1 }, summary.Rejected);
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["lab_results.results[].unit:unknown_unit"] = 1,
                ["lab_results.results[].value:range"] = 1,
                ["message_id:required"] = 1,
                ["vital_signs.heart_rate:range"] = 1,
            },
            summary.RejectionReasons);
    }

    [Fact]
    public async Task Another_sites_messages_are_not_counted()
    {
        var (site, other) = (NewSiteId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var withoutId = Vitals(NewPatientId(), other, at, 72);
        withoutId.Remove("message_id");
        await _cluster.IngestAsync(Vitals(NewPatientId(), site, at, 72).ToJsonString(), withoutId.ToJsonString());

        var all = await _cluster.Journal.CountersAsync();

        Assert.Equal((1L, 0L), (SiteSummary.From(site, all).Accepted["vital_signs"], SiteSummary.From(site, all).Rejected.Values.Sum()));
        Assert.Equal((0L, 1L), (SiteSummary.From(other, all).Accepted.Values.Sum(), SiteSummary.From(other, all).Rejected["vital_signs"]));
    }

    [Fact]
    public async Task Abnormal_values_are_counted_per_site()
    {
        var site = NewSiteId();

        await _cluster.IngestAsync(Vitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5), 150).ToJsonString());

        Assert.Equal(1, (await SiteAsync(site)).AbnormalFlags);
    }
}
