namespace ClinicalTrials.Generator.PhysioNet;

/// <summary>The import's closing report, as text: what was stored and, line by line, what the platform did not take.</summary>
public static class PhysioNetImportSummary
{
    public static void Write(TextWriter writer, PhysioNetImportReport report)
    {
        writer.WriteLine($"stays: {report.Stays} ({report.SepsisStays} with sepsis onset)");
        writer.WriteLine($"messages: {report.Messages} sent, {report.Accepted} accepted, {report.Duplicates} duplicates, {report.Rejected} rejected");
        foreach (var (issue, count) in report.Issues.OrderByDescending(i => i.Value).ThenBy(i => i.Key, StringComparer.Ordinal))
        {
            writer.WriteLine($"not taken or flagged: {issue} x {count}");
        }

        foreach (var (column, stays) in report.UnmappedColumns.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WriteLine($"column without a message field: {column} (in {stays} stays)");
        }

        report.UnreadableFiles.ForEach(f => writer.WriteLine($"unreadable: {f}"));
        report.FailedRequests.ForEach(f => writer.WriteLine($"failed: {f}"));
    }
}
