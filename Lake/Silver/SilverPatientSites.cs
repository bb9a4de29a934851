using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Silver;

/// <summary>Which site reports each patient, from the silver demographics (every patient's enrolment is sent by their site).</summary>
public static class SilverPatientSites
{
    /// <summary>Patient to site; when a patient's demographics came from several sites, the latest report's site.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ReadAsync(ILakeStorage storage, CancellationToken cancellationToken = default)
    {
        var sites = new Dictionary<string, (DateTime At, string Site)>(StringComparer.Ordinal);
        await foreach (var item in storage.ListAsync(LakeLayout.SilverPrefix(PayloadType.PatientDemographics), cancellationToken))
        {
            if (!item.Key.EndsWith(".parquet", StringComparison.Ordinal))
            {
                continue;
            }

            using var lease = await storage.OpenLocalAsync(item.Key, cancellationToken);
            foreach (var group in lease is null ? [] : DemographicsTable.Instance.Read(lease.Path))
            {
                foreach (var row in group)
                {
                    if (!sites.TryGetValue(row.PatientId, out var known) || known.At <= row.Timestamp)
                    {
                        sites[row.PatientId] = (row.Timestamp, row.SiteId);
                    }
                }
            }
        }

        return sites.ToDictionary(s => s.Key, s => s.Value.Site, StringComparer.Ordinal);
    }
}
