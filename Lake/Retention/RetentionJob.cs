using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Lake.Jobs;

namespace ClinicalTrials.Lake.Retention;

/// <summary>
/// Deletes date partitions older than each layer's retention (<see cref="RetentionOptions"/>): bronze (the journal's
/// local <c>raw/</c> files and their bucket copies), silver, offline features, and audit material (quarantine files,
/// job run records and the audit trail's records). A partition goes when its date is before today minus the layer's days. The ingest ledger
/// (<c>ledger.db</c>) is the idempotency index and is not pruned here.
/// </summary>
public sealed class RetentionJob(LakeContext lake) : ILakeJob
{
    public const string JobName = "retention";

    public string Name => JobName;

    public async Task<JobOutcome> RunAsync(JobArguments arguments, CancellationToken cancellationToken)
    {
        var outcome = new JobOutcome();
        var today = lake.Today;
        var retention = lake.Options.Retention;

        var bronzeCutoff = today.AddDays(-retention.BronzeDays);
        foreach (var location in LocalFiles(BronzeRecord.RawFolder).Where(l => LakeLayout.DateOf(l) < bronzeCutoff))
        {
            File.Delete(Path.Combine(lake.DataDirectory, location));
            lake.State.ForgetBronze(location);
            outcome.Count("deleted.bronze");
        }

        var auditCutoff = today.AddDays(-retention.AuditDays);
        foreach (var location in LocalFiles(BronzeRecord.QuarantineFolder).Where(l => LakeLayout.DateOf(l) < auditCutoff))
        {
            File.Delete(Path.Combine(lake.DataDirectory, location));
            outcome.Count("deleted.audit");
        }

        var auditCutoffTime = new DateTimeOffset(auditCutoff, TimeOnly.MinValue, TimeSpan.Zero);
        outcome.Count("deleted.job_runs", lake.State.DeleteRunsBefore(auditCutoffTime));
        if (lake.AuditTrail is { } trail)
        {
            outcome.Count("deleted.audit_trail", await trail.DeleteBeforeAsync(auditCutoffTime, cancellationToken));
        }

        if (lake.StorageIsRemote)
        {
            await DeleteAsync(LakeLayout.Raw, bronzeCutoff, "bronze_copy", outcome, cancellationToken);
        }

        await DeleteAsync(LakeLayout.Processed, today.AddDays(-retention.SilverDays), "silver", outcome, cancellationToken);
        await DeleteAsync(LakeLayout.OfflineFeatures, today.AddDays(-retention.FeatureDays), "features", outcome, cancellationToken);
        RemoveEmptyFolders(Path.Combine(lake.DataDirectory, BronzeRecord.RawFolder));
        RemoveEmptyFolders(Path.Combine(lake.DataDirectory, BronzeRecord.QuarantineFolder));
        outcome.RowsOut = outcome.Details.Where(d => d.Key.StartsWith("deleted.", StringComparison.Ordinal)).Sum(d => d.Value);
        return outcome;
    }

    private IEnumerable<string> LocalFiles(string folder)
    {
        var root = Path.Combine(lake.DataDirectory, folder);
        return Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(lake.DataDirectory, p).Replace(Path.DirectorySeparatorChar, '/'))
                .ToList()
            : [];
    }

    private async Task DeleteAsync(string prefix, DateOnly cutoff, string layer, JobOutcome outcome, CancellationToken cancellationToken)
    {
        var old = new List<string>();
        await foreach (var item in lake.Storage.ListAsync(prefix, cancellationToken))
        {
            outcome.RowsIn++;
            if (LakeLayout.DateOf(item.Key) < cutoff)
            {
                old.Add(item.Key);
            }
        }

        foreach (var key in old)
        {
            await lake.Storage.DeleteAsync(key, cancellationToken);
            outcome.Count($"deleted.{layer}");
        }
    }

    private static void RemoveEmptyFolders(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(f => f.Length).ToList())
        {
            if (!Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
    }
}
