using System.Text;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// Maps every partition of every topic to one Orleans queue, spread evenly over the consistent ring so that the
/// default queue balancer gives each silo its share. A stream maps to the partition Kafka's default (Java) partitioner
/// picks for its key in the first topic: murmur2 of the key's UTF-8 bytes (librdkafka's <c>murmur2_random</c>).
/// </summary>
public sealed class KafkaQueueMapper : IConsistentRingStreamQueueMapper
{
    private readonly string _providerName;
    private readonly QueueId[] _queues;
    private readonly Dictionary<QueueId, KafkaPartition> _partitions = [];

    public KafkaQueueMapper(string providerName, IReadOnlyList<string> topics, int partitions)
    {
        _providerName = providerName;
        var count = topics.Count * partitions;
        _queues = new QueueId[count];
        var spacing = uint.MaxValue / (uint)count;
        for (var t = 0; t < topics.Count; t++)
        {
            for (var p = 0; p < partitions; p++)
            {
                var index = t * partitions + p;
                var queue = QueueId.GetQueueId(providerName, (uint)index, (uint)index * spacing);
                _queues[index] = queue;
                _partitions[queue] = new KafkaPartition(topics[t], p);
            }
        }

        Partitions = partitions;
    }

    public int Partitions { get; }

    public IEnumerable<QueueId> GetAllQueues() => _queues;

    public KafkaPartition PartitionOf(QueueId queue) => _partitions[queue];

    public QueueId GetQueueForStream(StreamId streamId) =>
        _queues[PartitionForKey(Encoding.UTF8.GetBytes(streamId.GetKeyAsString()), Partitions)];

    public IEnumerable<QueueId> GetQueuesForRange(IRingRange range) => _queues.Where(q => range.InRange(q.GetUniformHashCode()));

    /// <summary>The partition Kafka's default partitioner gives a key: murmur2, sign bit cleared, modulo the count.</summary>
    public static int PartitionForKey(ReadOnlySpan<byte> key, int partitions) => (int)((Murmur2(key) & 0x7fffffff) % partitions);

    private static uint Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var h = 0x9747b28cu ^ (uint)data.Length;
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            var k = (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        switch (data.Length - i)
        {
            case 3:
                h ^= (uint)data[i + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[i + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[i];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}

/// <summary>One partition of one topic.</summary>
public readonly record struct KafkaPartition(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}[{Partition}]";
}
