using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// Reads Kafka into Orleans streams. Read-only: records are produced to Kafka by Kafka producers (the sites' systems),
/// not through Orleans' stream API.
/// </summary>
internal sealed class KafkaQueueAdapter(string name, KafkaStreamOptions options, KafkaQueueMapper mapper, KafkaQueueAdapterCache cache,
    KafkaConsumerLag lag, ILoggerFactory loggers) : IQueueAdapter
{
    public string Name => name;

    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadOnly;

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) =>
        new KafkaQueueReceiver(mapper.PartitionOf(queueId), options, cache.FlowOf(queueId), lag, loggers.CreateLogger<KafkaQueueReceiver>());

    public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext) =>
        throw new NotSupportedException($"The Kafka stream provider '{name}' only reads; produce records with a Kafka producer.");
}

/// <summary>Creates each partition's cache, and pairs it with the partition's receiver for pausing.</summary>
internal sealed class KafkaQueueAdapterCache(KafkaStreamOptions options, KafkaQueueMapper mapper, ILoggerFactory loggers) : IQueueAdapterCache
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<QueueId, PartitionFlow> _flows = new();

    /// <summary>The pulling agent creates a queue's cache, then its receiver: both get the flow created here.</summary>
    public IQueueCache CreateQueueCache(QueueId queueId)
    {
        var flow = new PartitionFlow();
        _flows[queueId] = flow;
        return new KafkaPartitionCache(mapper.PartitionOf(queueId), options.MaxUndeliveredPerPartition, flow, loggers.CreateLogger<KafkaPartitionCache>());
    }

    public PartitionFlow FlowOf(QueueId queueId) => _flows.GetOrAdd(queueId, _ => new PartitionFlow());
}

/// <summary>
/// A record that could not be delivered within the agent's delivery time is logged; the subscription stays, and the
/// partition's cache keeps the record uncommitted, so it is read again when the partition is next assigned.
/// </summary>
internal sealed class KafkaDeliveryFailureHandler(ILogger logger) : IStreamFailureHandler
{
    public bool ShouldFaultSubsriptionOnError => false;

    public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamId, StreamSequenceToken? sequenceToken)
    {
        logger.LogError("Stream provider {Provider}: the record at offset {Offset} could not be delivered to its subscriber; it stays uncommitted.",
            streamProviderName, sequenceToken?.SequenceNumber);
        return Task.CompletedTask;
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamId, StreamSequenceToken? sequenceToken)
    {
        logger.LogError("Stream provider {Provider}: a subscription failed at offset {Offset}.", streamProviderName, sequenceToken?.SequenceNumber);
        return Task.CompletedTask;
    }
}
