using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>One Kafka record as one stream event: its value, on the stream its key names, at its partition offset.</summary>
[GenerateSerializer, Immutable, Alias("kafka-batch-container")]
public sealed class KafkaBatchContainer(StreamId streamId, byte[] value, long offset) : IBatchContainer
{
    [Id(0)]
    public StreamId StreamId { get; } = streamId;

    /// <summary>The record's value, exactly as read.</summary>
    [Id(1)]
    public byte[] Value { get; } = value;

    [Id(2)]
    public long Offset { get; } = offset;

    public StreamSequenceToken SequenceToken => new EventSequenceTokenV2(Offset);

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Value is T value ? [Tuple.Create(value, SequenceToken)] : [];

    public bool ImportRequestContext() => false;
}
