using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// The adverse events of the silver layer, for what derives outcomes from them (training labels, monitoring's ground truth):
/// each de-duplicated event with its onset. Silver is partitioned by report date, and an event is reported at or after
/// its onset, so the events with onset after a time are all in the partitions from that time's date on.
/// </summary>
public static class SilverAdverseEvents
{
    /// <summary>Every event in the partitions dated <paramref name="from"/> or later (all of them without it).</summary>
    public static async Task<List<AdverseEvent>> ReadAsync(ILakeStorage storage, DateOnly? from = null, CancellationToken cancellationToken = default)
    {
        var events = new List<AdverseEvent>();
        await foreach (var item in storage.ListAsync(LakeLayout.SilverPrefix(PayloadType.AdverseEvent), cancellationToken))
        {
            if (!item.Key.EndsWith(".parquet", StringComparison.Ordinal) || (from is { } first && (LakeLayout.DateOf(item.Key) is not { } date || date < first)))
            {
                continue;
            }

            using var lease = await storage.OpenLocalAsync(item.Key, cancellationToken);
            if (lease is not null)
            {
                events.AddRange(AdverseEventTable.Instance.Read(lease.Path).SelectMany(g => g).Select(r => (AdverseEvent)SilverRows.ToMessage(r).Payload));
            }
        }

        return events;
    }
}
