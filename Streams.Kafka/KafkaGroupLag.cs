using Confluent.Kafka;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// The consumer group's lag as the broker sees it, for every configured partition, whichever silo reads it: the
/// committed offset and the high watermark, asked of the broker.
/// </summary>
public static class KafkaGroupLag
{
    public static IReadOnlyList<PartitionLag> Query(KafkaStreamOptions options, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(KafkaClientSettings.Consumer(options)).Build();
        var partitions = options.Topics.SelectMany(t => Enumerable.Range(0, options.Partitions).Select(p => new TopicPartition(t, p))).ToList();
        var committed = consumer.Committed(partitions, timeout).ToDictionary(c => c.TopicPartition, c => c.Offset);
        return partitions.Select(tp =>
        {
            var watermarks = consumer.QueryWatermarkOffsets(tp, timeout);
            var at = committed[tp] == Offset.Unset ? watermarks.Low.Value : committed[tp].Value;
            return new PartitionLag(tp.Topic, tp.Partition.Value, at, watermarks.High.Value, Math.Max(0, watermarks.High.Value - at));
        }).ToList();
    }
}
