using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// The adverse events of the silver layer, for what looks at outcomes outside the lake (monitoring's ground truth):
/// each de-duplicated event with its onset. Silver is partitioned by report date, and an event is reported at or after
/// its onset, so the events with onset after a time are all in the partitions from that time's date on.
/// </summary>
public static class SilverAdverseEvents
{
    /// <summary>Every event in the partitions dated <paramref name="from"/> or later.</summary>
    public static async Task<IReadOnlyList<ReportedAdverseEvent>> ReadAsync(ILakeStorage storage, DateOnly from, CancellationToken cancellationToken = default)
    {
        var events = new List<ReportedAdverseEvent>();
        await foreach (var item in storage.ListAsync(LakeLayout.SilverPrefix(PayloadType.AdverseEvent), cancellationToken))
        {
            if (!item.Key.EndsWith(".parquet", StringComparison.Ordinal) || LakeLayout.DateOf(item.Key) is not { } date || date < from)
            {
                continue;
            }

            using var lease = await storage.OpenLocalAsync(item.Key, cancellationToken);
            if (lease is null)
            {
                continue;
            }

            foreach (var group in AdverseEventTable.Instance.Read(lease.Path))
            {
                events.AddRange(group.Select(row => new ReportedAdverseEvent(
                    row.PatientId, new DateTimeOffset(row.Onset, TimeSpan.Zero), row.EventTerm, row.Severity, row.SiteId)));
            }
        }

        return events;
    }
}

/// <summary>One adverse event as silver holds it.</summary>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="Onset">When the event began (UTC).</param>
/// <param name="EventTerm">What happened, e.g. <c>NAUSEA</c>.</param>
/// <param name="Severity">MILD, MODERATE or SEVERE.</param>
/// <param name="SiteId">The site that reported it.</param>
public sealed record ReportedAdverseEvent(string PatientId, DateTimeOffset Onset, string EventTerm, string Severity, string SiteId);
