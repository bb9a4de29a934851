using System.ComponentModel.DataAnnotations;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// Where a Kafka stream provider reads from. Each partition of each topic is one Orleans queue; Orleans' pulling
/// agents spread the queues over the silos. A record's key names its stream (within <see cref="StreamNamespace"/>), its
/// value is delivered as the event (<c>byte[]</c>).
/// </summary>
public sealed class KafkaStreamOptions
{
    /// <summary>Comma-separated <c>host:port</c> list.</summary>
    [Required]
    public string BootstrapServers { get; set; } = "";

    /// <summary>The consumer group whose committed offsets record what is delivered.</summary>
    [Required]
    public string GroupId { get; set; } = "orleans-streams";

    /// <summary>One topic, or several (for instance one per payload type); all are read the same way.</summary>
    [MinLength(1)]
    public List<string> Topics { get; set; } = [];

    /// <summary>
    /// Partitions of every topic. Fixed by configuration rather than read from the broker so that every silo maps
    /// the same partitions to the same queues; a receiver whose topic has another count refuses to start (logged).
    /// </summary>
    [Range(1, 10_000)]
    public int Partitions { get; set; } = 4;

    /// <summary>The stream namespace every record is delivered in (implicit subscribers subscribe to it).</summary>
    [Required]
    public string StreamNamespace { get; set; } = "kafka";

    /// <summary>
    /// Records of one partition held between the broker and their delivery. When this many are not yet delivered the
    /// partition is paused at the broker, and resumed when half of them are.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxUndeliveredPerPartition { get; set; } = 20_000;

    /// <summary>Records taken from the consumer in one read of the pulling agent.</summary>
    [Range(1, 100_000)]
    public int MaxRecordsPerRead { get; set; } = 2_000;

    /// <summary>Further librdkafka settings for the consumers (security.protocol, sasl.*, ssl.*).</summary>
    public Dictionary<string, string> ConsumerSettings { get; set; } = [];
}
