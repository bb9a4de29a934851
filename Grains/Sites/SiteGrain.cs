using System.Collections.Immutable;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Sites;

/// <summary>
/// A site's live counts. The journal's counters are the durable record; on activation the grain loads them with the
/// last commit of each writer they include, then adds only tallies from later commits of that writer, so nothing is
/// counted twice or missed, even when several silos' writers commit in any interleaving.
/// </summary>
public sealed class SiteGrain(IIngestJournal journal) : Grain, ISiteGrain
{
    private readonly Dictionary<string, int> _accepted = [];
    private readonly Dictionary<string, int> _duplicates = [];
    private readonly Dictionary<string, int> _rejected = [];
    private readonly Dictionary<string, int> _reasons = [];
    private IReadOnlyDictionary<string, long> _loadedCommits = new Dictionary<string, long>();
    private int _abnormalFlags;
    private DateTimeOffset? _lastReceivedAt;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var snapshot = await journal.CountersAsync(this.GetPrimaryKeyString());
        _loadedCommits = snapshot.LastCommits;
        foreach (var row in snapshot.Counters)
        {
            switch (row.Outcome)
            {
                case "accepted": Add(_accepted, row.PayloadType, (int)row.Count); break;
                case "duplicate": Add(_duplicates, row.PayloadType, (int)row.Count); break;
                case "rejected": Add(_rejected, row.PayloadType, (int)row.Count); break;
                case "flagged": _abnormalFlags += (int)row.Count; break;
            }
        }

        foreach (var row in snapshot.Reasons)
        {
            Add(_reasons, $"{row.Field}:{row.Rule}", (int)row.Count);
        }
    }

    public Task RecordAsync(SiteTally tally)
    {
        if (tally.Commit.Number > _loadedCommits.GetValueOrDefault(tally.Commit.Writer))
        {
            AddAll(_accepted, tally.Accepted);
            AddAll(_duplicates, tally.Duplicates);
            AddAll(_rejected, tally.Rejected);
            AddAll(_reasons, tally.RejectionReasons);
            _abnormalFlags += tally.AbnormalFlags;
        }

        _lastReceivedAt = _lastReceivedAt > tally.LastReceivedAt ? _lastReceivedAt : tally.LastReceivedAt;
        return Task.CompletedTask;
    }

    public Task<SiteSummary> GetSummaryAsync() => Task.FromResult(new SiteSummary(
        this.GetPrimaryKeyString(),
        _accepted.ToImmutableDictionary(),
        _duplicates.ToImmutableDictionary(),
        _rejected.ToImmutableDictionary(),
        _reasons.ToImmutableDictionary(),
        _abnormalFlags,
        _lastReceivedAt));

    private static void AddAll(Dictionary<string, int> counts, ImmutableDictionary<string, int> more)
    {
        foreach (var (key, n) in more)
        {
            Add(counts, key, n);
        }
    }

    private static void Add(Dictionary<string, int> counts, string key, int n) => counts[key] = counts.GetValueOrDefault(key) + n;
}
