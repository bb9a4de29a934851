using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// Reads silver back as clinical messages: one table over a range of clinical dates, partition by partition in date
/// order, each message as silver keeps it (de-duplicated, lab values standardised beside the ones sent). For exports.
/// </summary>
public static class SilverReader
{
    /// <summary>The messages of <paramref name="type"/> whose clinical date lies in [<paramref name="from"/>, <paramref name="to"/>] (either open when null).</summary>
    public static async IAsyncEnumerable<ClinicalMessage> ReadAsync(ILakeStorage storage, PayloadType type, DateOnly? from, DateOnly? to,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var keys = new List<string>();
        await foreach (var item in storage.ListAsync(LakeLayout.SilverPrefix(type), cancellationToken))
        {
            if (item.Key.EndsWith(".parquet", StringComparison.Ordinal) && LakeLayout.DateOf(item.Key) is { } date
                && (from is null || date >= from) && (to is null || date <= to))
            {
                keys.Add(item.Key);
            }
        }

        foreach (var key in keys)
        {
            using var lease = await storage.OpenLocalAsync(key, cancellationToken);
            if (lease is null)
            {
                continue; // removed by retention since it was listed
            }

            foreach (var message in Messages(type, lease.Path))
            {
                yield return message;
            }
        }
    }

    private static IEnumerable<ClinicalMessage> Messages(PayloadType type, string path)
    {
        switch (type)
        {
            case PayloadType.VitalSigns:
                return VitalTable.Instance.Read(path).SelectMany(g => g).Select(SilverRows.ToMessage);
            case PayloadType.PatientDemographics:
                return DemographicsTable.Instance.Read(path).SelectMany(g => g).Select(SilverRows.ToMessage);
            case PayloadType.AdverseEvent:
                return AdverseEventTable.Instance.Read(path).SelectMany(g => g).Select(SilverRows.ToMessage);
            default:
                // Rows are sorted by (patient, timestamp, message id): a message's results are adjacent.
                return LabTable.Instance.Read(path).SelectMany(g => g).ChunkBy(r => r.MessageId).Select(SilverRows.ToMessage);
        }
    }

    private static IEnumerable<List<T>> ChunkBy<T>(this IEnumerable<T> items, Func<T, Guid> key)
    {
        List<T>? chunk = null;
        foreach (var item in items)
        {
            if (chunk is not null && key(chunk[0]) != key(item))
            {
                yield return chunk;
                chunk = null;
            }

            (chunk ??= []).Add(item);
        }

        if (chunk is not null)
        {
            yield return chunk;
        }
    }
}
