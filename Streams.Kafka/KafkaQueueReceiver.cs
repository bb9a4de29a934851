using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// Reads one partition with a consumer of its own, assigned (not subscribed: Orleans' agents balance partitions over
/// the silos, not Kafka's group protocol) at the group's committed offset. Stores an offset for commit only when the cache
/// reports every record before it delivered. Pauses fetching when the cache is full.
/// </summary>
internal sealed class KafkaQueueReceiver(KafkaPartition partition, KafkaStreamOptions options, PartitionFlow flow, KafkaConsumerLag lag, ILogger logger)
    : IQueueAdapterReceiver
{
    private readonly TopicPartition _topicPartition = new(partition.Topic, partition.Partition);
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private TimeSpan _timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Connects; when the broker or topic is not there yet, the first read tries again (the pulling agent calls this
    /// once, and keeps reading whatever it returned).
    /// </summary>
    public Task Initialize(TimeSpan timeout)
    {
        _timeout = timeout;
        Connect();
        return Task.CompletedTask;
    }

    private IConsumer<byte[]?, byte[]?> Connect()
    {
        var timeout = _timeout;
        var consumer = new ConsumerBuilder<byte[]?, byte[]?>(KafkaClientSettings.Consumer(options)).Build();
        try
        {
            var actual = AdminMetadata(consumer, timeout).Topics.SingleOrDefault(t => t.Topic == partition.Topic)?.Partitions.Count ?? 0;
            if (actual != options.Partitions)
            {
                throw new InvalidOperationException(
                    $"Kafka topic {partition.Topic} has {actual} partitions; the stream provider is configured for {options.Partitions}.");
            }

            var committed = consumer.Committed([_topicPartition], timeout)[0].Offset;
            var watermarks = consumer.QueryWatermarkOffsets(_topicPartition, timeout);
            lag.Track(partition, committed == Offset.Unset ? watermarks.Low.Value : committed.Value, watermarks.High.Value);
            consumer.Assign(_topicPartition);
        }
        catch
        {
            consumer.Dispose();
            throw;
        }

        _consumer = consumer;
        flow.Attach(paused =>
        {
            if (paused)
            {
                consumer.Pause([_topicPartition]);
                logger.LogInformation("Kafka {Partition}: paused, {Max} records wait for delivery.", partition, options.MaxUndeliveredPerPartition);
            }
            else
            {
                consumer.Resume([_topicPartition]);
                logger.LogInformation("Kafka {Partition}: resumed.", partition);
            }
        });
        logger.LogInformation("Kafka {Partition}: reading from the committed offset of group {Group}.", partition, options.GroupId);
        return consumer;
    }

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        var consumer = _consumer ?? Connect();
        var limit = maxCount < 0 ? options.MaxRecordsPerRead : Math.Min(maxCount, options.MaxRecordsPerRead);
        var batch = new List<IBatchContainer>();
        while (batch.Count < limit && consumer.Consume(TimeSpan.Zero) is { } record)
        {
            batch.Add(new KafkaBatchContainer(StreamOf(record.Message.Key), record.Message.Value ?? [], record.Offset.Value));
        }

        lag.HighWatermark(partition, consumer.GetWatermarkOffsets(_topicPartition).High.Value);
        return Task.FromResult<IList<IBatchContainer>>(batch);
    }

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        // Stored, not committed here: librdkafka commits stored offsets in the background (and on close), so the
        // agent never waits for the broker. A silo that dies redelivers at most the last interval's records.
        var next = messages.Max(m => ((KafkaBatchContainer)m).Offset) + 1;
        _consumer!.StoreOffset(new TopicPartitionOffset(_topicPartition, next));
        lag.Committed(partition, next);
        return Task.CompletedTask;
    }

    public Task Shutdown(TimeSpan timeout)
    {
        flow.Attach(null);
        lag.Forget(partition);
        var consumer = _consumer;
        _consumer = null;
        if (consumer is not null)
        {
            consumer.Close();
            consumer.Dispose();
        }

        return Task.CompletedTask;
    }

    private StreamId StreamOf(byte[]? key) =>
        StreamId.Create(options.StreamNamespace, key is { Length: > 0 } ? Encoding.UTF8.GetString(key) : UnkeyedStream);

    /// <summary>The stream of records without a key.</summary>
    public const string UnkeyedStream = "unkeyed";

    private static Metadata AdminMetadata(IConsumer<byte[]?, byte[]?> consumer, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return admin.GetMetadata(timeout);
    }
}
