using System.Text.Json;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// A broker delivery's <c>data.receive</c> audit record, in the shape of an HTTP request's (<see cref="ReceivedMessages"/>):
/// per site, the message ids by status and each rejected message's rules; never a value. The outcome says what the
/// broker is told: <c>stored</c> (every message stored or quarantined), or <c>retry</c> (some could not be made durable
/// now and are delivered again).
/// </summary>
internal sealed class BrokerReceipts(AuditTrail trail) : IBrokerReceipts
{
    public Task RecordAsync(string actor, string source, IReadOnlyList<ReceivedMessage> messages, IReadOnlyList<IngestResult> results)
    {
        var received = new ReceivedMessages();
        received.Note(messages, results);
        var outcome = results.Any(r => r.Status == IngestStatus.Unavailable) ? "retry" : "stored";
        var details = JsonSerializer.Serialize(new Dictionary<string, object?> { ["messages"] = received.BySite }, ApiJson.Options);
        return trail.AppendAsync(new AuditEntry(actor, "data.receive", received.Resource, outcome, source, details));
    }
}
