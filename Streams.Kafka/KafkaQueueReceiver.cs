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
    private readonly Queue<long> _undelivered = new();
    private long _nextOffset;

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
            _nextOffset = committed == Offset.Unset ? watermarks.Low.Value : committed.Value;
            lag.Track(partition, _nextOffset, watermarks.High.Value);
            // A new group starts at the beginning; otherwise at the committed offset. Never anywhere else: a committed
            // offset the broker no longer holds (its retention deleted records not yet read) stops the partition with
            // an error instead of skipping them (auto.offset.reset=error).
            consumer.Assign(new TopicPartitionOffset(_topicPartition, committed == Offset.Unset ? Offset.Beginning : committed));
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
                // Pausing drops what librdkafka had fetched ahead: resume explicitly at the first record not yet read.
                consumer.Resume([_topicPartition]);
                consumer.Seek(new TopicPartitionOffset(_topicPartition, _nextOffset));
                logger.LogInformation("Kafka {Partition}: resumed at offset {Offset}.", partition, _nextOffset);
            }
        });
        logger.LogInformation("Kafka {Partition}: reading from the committed offset of group {Group}.", partition, options.GroupId);
        return consumer;
    }

    /// <summary>
    /// Takes what the consumer holds now, up to <paramref name="maxCount"/> records, and groups them by key: one
    /// container per stream, in the order of each stream's first record, so that a subscriber stores a patient's
    /// records of one read together.
    /// </summary>
    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        var consumer = _consumer ?? Connect();
        var limit = maxCount < 0 ? options.MaxRecordsPerRead : Math.Min(maxCount, options.MaxRecordsPerRead);
        var byKey = new Dictionary<StreamId, (List<long> Offsets, List<byte[]> Values)>();
        var order = new List<StreamId>();
        for (var read = 0; read < limit && Consume(consumer) is { } record; read++)
        {
            var stream = StreamOf(record.Message.Key);
            if (!byKey.TryGetValue(stream, out var records))
            {
                byKey[stream] = records = ([], []);
                order.Add(stream);
            }

            records.Offsets.Add(record.Offset.Value);
            records.Values.Add(record.Message.Value ?? []);
            _nextOffset = record.Offset.Value + 1;
        }

        var batch = new List<IBatchContainer>(order.Count);
        foreach (var stream in order)
        {
            var (offsets, values) = byKey[stream];
            batch.Add(new KafkaBatchContainer(stream, [.. offsets], [.. values]));
            _undelivered.Enqueue(offsets[0]);
        }

        lag.HighWatermark(partition, consumer.GetWatermarkOffsets(_topicPartition).High.Value);
        return Task.FromResult<IList<IBatchContainer>>(batch);
    }

    /// <summary>
    /// The cache hands back containers once they and every container read before them are delivered. The offset
    /// stored for commit is the first record of the oldest container still undelivered (records of containers
    /// delivered after it may be read again after a crash: subscribers are idempotent), or the next offset to read.
    /// </summary>
    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        var lastDelivered = messages.Max(m => ((KafkaBatchContainer)m).FirstOffset);
        while (_undelivered.TryPeek(out var first) && first <= lastDelivered)
        {
            _undelivered.Dequeue();
        }

        var commit = _undelivered.TryPeek(out var oldest) ? oldest : _nextOffset;
        // Stored, not committed here: librdkafka commits stored offsets in the background (and on close), so the
        // agent never waits for the broker. A silo that dies redelivers at most the last interval's records.
        _consumer!.StoreOffset(new TopicPartitionOffset(_topicPartition, commit));
        lag.Committed(partition, commit);
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

    private ConsumeResult<byte[]?, byte[]?>? Consume(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            return consumer.Consume(TimeSpan.Zero);
        }
        catch (ConsumeException e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_AutoOffsetReset)
        {
            logger.LogError("Kafka {Partition}: the broker no longer holds offset {Offset}, the next record not yet delivered ({Reason}); " +
                "the partition stops here rather than skip records. Reset the group's offset to go on.", partition, _nextOffset, e.Error.Reason);
            throw;
        }
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
