using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ClinicalTrials.Generator.PhysioNet;

/// <summary>What an import did: stays read, messages and their answers, and everything the platform did not take.</summary>
public sealed class PhysioNetImportReport
{
    public int Stays { get; set; }

    public int SepsisStays { get; set; }

    public long Messages { get; set; }

    public long Accepted { get; set; }

    public long Duplicates { get; set; }

    public long Rejected { get; set; }

    /// <summary>Rejections and single values the platform refused or flagged, by field (list indexes removed) and rule.</summary>
    public ConcurrentDictionary<string, long> Issues { get; } = new(StringComparer.Ordinal);

    /// <summary>Files that could not be read as a challenge stay, with the reason.</summary>
    public List<string> UnreadableFiles { get; } = [];

    /// <summary>Columns of the files no message field holds, with the number of stays that had them.</summary>
    public Dictionary<string, int> UnmappedColumns { get; } = new(StringComparer.Ordinal);

    /// <summary>Requests that failed after their retries, with the reason.</summary>
    public List<string> FailedRequests { get; } = [];
}

/// <summary>
/// <c>import physionet DIR</c>: reads every <c>*.psv</c> stay of a directory, converts it with
/// <see cref="PhysioNetMessages"/> and posts the messages as NDJSON batches to <c>/api/clinical/data/batch</c>, the
/// ingest path every client uses. A batch holds whole stays, in file-name order. What the platform rejects or flags
/// is counted by field and rule and reported, as are columns no message field holds.
/// </summary>
public sealed partial class PhysioNetImport(HttpClient http, PhysioNetTimeline timeline, int batchSize = 5000, int concurrency = 2)
{
    private const int Attempts = 5;
    private static readonly MediaTypeHeaderValue Ndjson = new("application/x-ndjson");

    public async Task<PhysioNetImportReport> RunAsync(string directory, IProgress<PhysioNetImportReport>? progress = null, CancellationToken cancellationToken = default)
    {
        var report = new PhysioNetImportReport();
        var files = Directory.EnumerateFiles(directory, "*.psv").Order(StringComparer.Ordinal).ToList();
        var pending = new List<Task>();
        var batch = new StringBuilder();
        var inBatch = 0;
        foreach (var file in files)
        {
            PhysioNetStay stay;
            List<System.Text.Json.Nodes.JsonObject> messages;
            try
            {
                stay = PhysioNetStay.Read(file);
                messages = PhysioNetMessages.Convert(stay, timeline);
            }
            catch (InvalidDataException e)
            {
                report.UnreadableFiles.Add(e.Message);
                continue;
            }

            report.Stays++;
            report.SepsisStays += messages.Any(m => m.ContainsKey("adverse_event")) ? 1 : 0;
            foreach (var column in PhysioNetMessages.Unmapped(stay))
            {
                report.UnmappedColumns[column] = report.UnmappedColumns.GetValueOrDefault(column) + 1;
            }

            foreach (var message in messages)
            {
                batch.Append(message.ToJsonString()).Append('\n');
            }

            inBatch += messages.Count;
            if (inBatch >= batchSize)
            {
                await SendAsync(batch.ToString(), inBatch);
                batch.Clear();
                inBatch = 0;
            }
        }

        if (inBatch > 0)
        {
            await SendAsync(batch.ToString(), inBatch);
        }

        await Task.WhenAll(pending);
        return report;

        async Task SendAsync(string body, int count)
        {
            if (pending.Count >= concurrency)
            {
                pending.Remove(await Task.WhenAny(pending));
            }

            pending.Add(Task.Run(async () =>
            {
                await PostAsync(body, count, report, cancellationToken);
                lock (report)
                {
                    progress?.Report(report);
                }
            }, cancellationToken));
        }
    }

    private async Task PostAsync(string body, int count, PhysioNetImportReport report, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        string? failure = null;
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                using var content = new ByteArrayContent(bytes) { Headers = { ContentType = Ndjson } };
                using var response = await http.PostAsync("/api/clinical/data/batch", content, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Tally(text, count, report);
                    return;
                }

                failure = $"HTTP {(int)response.StatusCode}";
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    break; // only "storage unavailable" is worth a retry; the batch is resent whole (stored messages answer duplicate)
                }
            }
            catch (HttpRequestException e)
            {
                failure = e.Message;
            }

            await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken); // back off before retrying the server, not a test wait
        }

        lock (report)
        {
            report.FailedRequests.Add($"a batch of {count} messages: {failure}");
        }
    }

    private static void Tally(string replyJson, int count, PhysioNetImportReport report)
    {
        using var reply = JsonDocument.Parse(replyJson);
        var root = reply.RootElement;
        foreach (var item in root.GetProperty("results").EnumerateArray())
        {
            if (item.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                foreach (var error in errors.EnumerateArray())
                {
                    var key = $"{Index().Replace(error.GetProperty("field").GetString() ?? "", "[]")}:{error.GetProperty("rule").GetString()}";
                    report.Issues.AddOrUpdate(key, 1, (_, n) => n + 1);
                }
            }
        }

        lock (report)
        {
            report.Messages += count;
            report.Accepted += root.GetProperty("accepted").GetInt64();
            report.Duplicates += root.GetProperty("duplicates").GetInt64();
            report.Rejected += root.GetProperty("rejected").GetInt64();
        }
    }

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex Index();
}
