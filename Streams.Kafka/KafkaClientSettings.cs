using Confluent.Kafka;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>The librdkafka settings the provider's clients use.</summary>
internal static class KafkaClientSettings
{
    public static ConsumerConfig Consumer(KafkaStreamOptions options)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(options.ConsumerSettings))
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            // The receiver stores an offset once every record before it is delivered; librdkafka commits what is
            // stored, in the background, and never stores an offset on its own.
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 200,
            EnableAutoOffsetStore = false,
            // Records deleted by the broker before they were read stop the partition (KafkaQueueReceiver); a new group
            // starts at the beginning because the receiver assigns it there.
            AutoOffsetReset = AutoOffsetReset.Error,
            // What librdkafka fetches ahead of the agent, per partition: bounded, so a paused partition holds little.
            QueuedMaxMessagesKbytes = 8 * 1024,
            AllowAutoCreateTopics = false,
        };
        return config;
    }
}
