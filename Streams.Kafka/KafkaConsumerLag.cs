using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// Consumer lag of the partitions this silo reads: the partition's high watermark (as last fetched) minus the offset
/// committed for it. Published as the gauge <c>kafka_stream_consumer_lag</c> (records; tags provider, topic,
/// partition) on the meter <see cref="MeterName"/>.
/// </summary>
public sealed class KafkaConsumerLag
{
    public const string MeterName = "ClinicalTrials.Streams.Kafka";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<KafkaConsumerLag, byte> Providers = new();
    private readonly ConcurrentDictionary<KafkaPartition, Offsets> _partitions = new();

    static KafkaConsumerLag()
    {
        Meter.CreateObservableGauge("kafka_stream_consumer_lag", () =>
            Providers.Keys.SelectMany(p => p._partitions.Select(e => new Measurement<long>(e.Value.Lag,
                new KeyValuePair<string, object?>("provider", p.Provider),
                new KeyValuePair<string, object?>("topic", e.Key.Topic),
                new KeyValuePair<string, object?>("partition", e.Key.Partition)))),
            unit: "{record}", description: "Records in the partition after the last committed offset.");
    }

    public KafkaConsumerLag(string provider)
    {
        Provider = provider;
        Providers[this] = 0;
    }

    public string Provider { get; }

    /// <summary>The partitions this silo reads now, with their committed offset, high watermark and lag.</summary>
    public IReadOnlyList<PartitionLag> Snapshot() =>
        _partitions.Select(e => new PartitionLag(e.Key.Topic, e.Key.Partition, e.Value.Committed, e.Value.High, e.Value.Lag))
            .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition).ToList();

    internal void Track(KafkaPartition partition, long committed, long high) => _partitions[partition] = new Offsets(committed, high);

    internal void Committed(KafkaPartition partition, long committed) =>
        _partitions.AddOrUpdate(partition, _ => new Offsets(committed, committed), (_, o) => o with { Committed = committed });

    internal void HighWatermark(KafkaPartition partition, long high)
    {
        if (high >= 0)
        {
            _partitions.AddOrUpdate(partition, _ => new Offsets(high, high), (_, o) => o with { High = Math.Max(o.High, high) });
        }
    }

    internal void Forget(KafkaPartition partition) => _partitions.TryRemove(partition, out _);

    private readonly record struct Offsets(long Committed, long High)
    {
        public long Lag => Math.Max(0, High - Committed);
    }
}

/// <summary>One partition's position: the committed offset, the high watermark and the records between them.</summary>
public sealed record PartitionLag(string Topic, int Partition, long Committed, long HighWatermark, long Lag);
