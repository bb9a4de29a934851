namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// One site's messages by payload type and outcome, why its rejected ones were rejected (<c>field:rule</c>), and how
/// many values of its accepted messages were flagged abnormal: the journal's counters, which the commit that stores
/// the messages updates, so they are the one count of a site's messages.
/// </summary>
public sealed record SiteSummary(
    string SiteId,
    IReadOnlyDictionary<string, long> Accepted,
    IReadOnlyDictionary<string, long> Duplicates,
    IReadOnlyDictionary<string, long> Rejected,
    IReadOnlyDictionary<string, long> RejectionReasons,
    long AbnormalFlags)
{
    public static SiteSummary From(string siteId, CounterSnapshot snapshot)
    {
        var counters = snapshot.Counters.Where(c => c.SiteId == siteId).ToList();
        SortedDictionary<string, long> ByType(string outcome) => Sums(counters.Where(c => c.Outcome == outcome), c => c.PayloadType, c => c.Count);
        return new SiteSummary(siteId, ByType("accepted"), ByType("duplicate"), ByType("rejected"),
            Sums(snapshot.Reasons.Where(r => r.SiteId == siteId), r => $"{r.Field}:{r.Rule}", r => r.Count),
            counters.Where(c => c.Outcome == "flagged").Sum(c => c.Count));
    }

    private static SortedDictionary<string, long> Sums<T>(IEnumerable<T> rows, Func<T, string> key, Func<T, long> count) =>
        new(rows.GroupBy(key).ToDictionary(g => g.Key, g => g.Sum(count)), StringComparer.Ordinal);
}
