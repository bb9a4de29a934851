using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.AspNetCore.Http;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// What a request handed to ingest and what became of each message, for the request's <c>data.receive</c> audit record
/// (written by <see cref="EndpointAccess"/>'s audit filter with the caller, the source and the HTTP status): per site,
/// the message ids by status, and the rules a rejected message broke. Never a value from a message. The ingest endpoints
/// call <see cref="IngestAsync"/> instead of <see cref="ClinicalIngest.IngestAsync"/>, so no message is stored unrecorded.
/// </summary>
public sealed class ReceivedMessages
{
    private readonly SortedDictionary<string, Dictionary<IngestStatus, List<object?>>> _bySite = new(StringComparer.Ordinal);

    /// <summary>Ingests <paramref name="messages"/> and notes each one's outcome on the request for its audit record.</summary>
    public static async Task<IReadOnlyList<IngestResult>> IngestAsync(
        HttpContext http, ClinicalIngest ingest, IReadOnlyList<ReceivedMessage> messages, DateTimeOffset receivedAt)
    {
        var results = await ingest.IngestAsync(messages, receivedAt);
        var received = http.Features.Get<ReceivedMessages>();
        if (received is null)
        {
            http.Features.Set(received = new ReceivedMessages());
        }

        received.Note(messages, results);
        return results;
    }

    /// <summary>Notes what became of each of <paramref name="messages"/>: <paramref name="results"/>, in the same order.</summary>
    public void Note(IReadOnlyList<ReceivedMessage> messages, IReadOnlyList<IngestResult> results)
    {
        for (var i = 0; i < results.Count; i++)
        {
            // A rejected message's site_id may be anything the sender wrote: only a well-formed site code is recorded.
            Add(messages[i].Parsed.SiteId is { } site && ClinicalIds.IsSiteId(site) ? site : "", results[i]);
        }
    }

    /// <summary><c>site/{id}</c> when every message named one site, else null.</summary>
    public string? Resource => _bySite.Count == 1 && _bySite.Keys.Single() is { Length: > 0 } site ? $"site/{site}" : null;

    /// <summary>For the record's details: site (empty when the message named none) to status to message ids; a rejected message with its rules.</summary>
    public IReadOnlyDictionary<string, Dictionary<IngestStatus, List<object?>>> BySite => _bySite;

    private void Add(string siteId, IngestResult result)
    {
        if (!_bySite.TryGetValue(siteId, out var byStatus))
        {
            _bySite[siteId] = byStatus = [];
        }

        if (!byStatus.TryGetValue(result.Status, out var ids))
        {
            byStatus[result.Status] = ids = [];
        }

        ids.Add(result.Status == IngestStatus.Rejected
            ? new { message_id = result.MessageId, rules = result.Violations.Select(v => v.Rule).Distinct(StringComparer.Ordinal) }
            : result.MessageId);
    }
}
