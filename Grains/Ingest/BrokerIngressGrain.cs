using ClinicalTrials.Grains.Interfaces;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>
/// The subscriber of every broker stream: hands each message's bytes, as received, to <see cref="ClinicalIngest"/>,
/// exactly as <c>POST /api/clinical/data</c> does. A message that could not be made durable (the journal or a silo is
/// away) throws, so the stream does not count it delivered: the pulling agent retries it, and it is never committed
/// or settled before it is stored or quarantined. A redelivered message is answered <c>duplicate</c> by the journal.
/// </summary>
[ImplicitStreamSubscription(BrokerIngress.StreamNamespace)]
public sealed class BrokerIngressGrain(ClinicalIngest ingest, TimeProvider clock)
    : Grain, IBrokerIngressGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<byte[]>
{
    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<byte[]>().ResumeAsync(this);

    /// <summary>The messages of one delivery (one key's messages of one broker read) go in as one batch, as HTTP's do.</summary>
    public async Task OnNextAsync(IList<SequentialItem<byte[]>> items)
    {
        var receivedAt = clock.GetUtcNow();
        var results = await ingest.IngestAsync(items.Select(item => ReceivedMessage.Parse(item.Item, receivedAt)).ToList(), receivedAt);
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
