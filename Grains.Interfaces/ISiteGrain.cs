namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// One trial site, keyed by site_id: per-site message counts and data quality (why its messages get rejected).
/// </summary>
[Alias("site")]
public interface ISiteGrain : IGrainWithStringKey
{
    /// <summary>Adds the outcomes of messages from this site that are already durable.</summary>
    [Alias("record")]
    Task RecordAsync(SiteTally tally);

    [Alias("summary")]
    Task<SiteSummary> GetSummaryAsync();
}
