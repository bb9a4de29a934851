using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// The records of one key (one stream) from one read of a partition, in offset order, delivered together: a subscriber
/// that observes batches (<c>IAsyncBatchObserver&lt;byte[]&gt;</c>) gets them in one call. Its token is its first
/// record's offset; each event's token is that offset with the event's index.
/// </summary>
[GenerateSerializer, Immutable, Alias("kafka-batch-container")]
public sealed class KafkaBatchContainer(StreamId streamId, long[] offsets, byte[][] values) : IBatchContainer
{
    [Id(0)]
    public StreamId StreamId { get; } = streamId;

    /// <summary>Each record's partition offset, ascending.</summary>
    [Id(1)]
    public long[] Offsets { get; } = offsets;

    /// <summary>Each record's value, exactly as read.</summary>
    [Id(2)]
    public byte[][] Values { get; } = values;

    public long FirstOffset => Offsets[0];

    public StreamSequenceToken SequenceToken => new EventSequenceTokenV2(FirstOffset);

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Values.Select((value, index) => (value, index))
            .Where(e => e.value is T)
            .Select(e => Tuple.Create((T)(object)e.value, (StreamSequenceToken)new EventSequenceTokenV2(FirstOffset, e.index)));

    public bool ImportRequestContext() => false;
}
