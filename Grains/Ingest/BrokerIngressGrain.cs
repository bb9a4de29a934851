using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>
/// The subscriber of every broker stream: hands each message's bytes, as received, to <see cref="ClinicalIngest"/>,
/// exactly as <c>POST /api/clinical/data</c> does. A message that could not be made durable (the journal or a silo is
/// away) throws, so the stream does not count it delivered: the pulling agent retries it, and it is never committed
/// or settled before it is stored or quarantined, nor before its receipt is in the audit trail. A redelivered message is
/// answered <c>duplicate</c> by the journal.
/// </summary>
[ImplicitStreamSubscription(BrokerIngress.StreamNamespace)]
public sealed class BrokerIngressGrain(ClinicalIngest ingest, IBrokerReceipts receipts, TimeProvider clock)
    : Grain, IBrokerIngressGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<byte[]>
{
    private string _provider = "";

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        _provider = handleFactory.ProviderName;
        return handleFactory.Create<byte[]>().ResumeAsync(this);
    }

    /// <summary>The messages of one delivery (one key's messages of one broker read) go in as one batch, as HTTP's do.</summary>
    public async Task OnNextAsync(IList<SequentialItem<byte[]>> items)
    {
        var receivedAt = clock.GetUtcNow();
        var messages = items.Select(item => ReceivedMessage.Parse(item.Item, receivedAt)).ToList();
        var results = await ingest.IngestAsync(messages, receivedAt);
        // The stream key is the producer's: recorded only when it is a well-formed patient id (it never leaves the trail).
        var key = this.GetPrimaryKeyString();
        await receipts.RecordAsync($"broker:{_provider}", $"stream {BrokerIngress.StreamNamespace}/{(ClinicalIds.IsPatientId(key) ? key : "")}", messages, results);
        if (results.Any(r => r.Status == IngestStatus.Unavailable))
        {
            throw new BrokerMessageNotStoredException();
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}

/// <summary>A broker message's outcome could not be made durable now; its delivery is retried.</summary>
[GenerateSerializer, Alias("broker-message-not-stored")]
public sealed class BrokerMessageNotStoredException() : Exception("The message could not be made durable now (the journal or a silo is unavailable); it is delivered again.");
