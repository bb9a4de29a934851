using System.Text;
using Confluent.Kafka;
using Orleans.Runtime;

namespace ClinicalTrials.Streams.Kafka.Tests;

public sealed class KafkaQueueMapperTests
{
    [Fact]
    public void Every_partition_of_every_topic_is_one_queue()
    {
        var mapper = new KafkaQueueMapper("kafka", ["a", "b"], 3);

        var partitions = mapper.GetAllQueues().Select(mapper.PartitionOf).ToList();

        Assert.Equal(6, partitions.Distinct().Count());
        Assert.Equal(["a", "a", "a", "b", "b", "b"], partitions.Select(p => p.Topic));
    }

    [Fact]
    public async Task A_stream_maps_to_the_partition_the_java_partitioner_gives_its_key()
    {
        var bootstrap = TestKafka.RequireBootstrap();
        var topic = $"mapper-{Guid.NewGuid():N}";
        var partitions = await TestKafka.CreateTopicAsync(bootstrap, topic);
        var mapper = new KafkaQueueMapper("kafka", [topic], partitions);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Partitioner = Partitioner.Murmur2Random,
        }).Build();

        for (var i = 0; i < 50; i++)
        {
            var key = $"PT{i:D8}";
            var delivered = await producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = "x" }, TestContext.Current.CancellationToken);

            var queue = mapper.GetQueueForStream(StreamId.Create("ns", key));
            Assert.Equal(delivered.Partition.Value, mapper.PartitionOf(queue).Partition);
            Assert.Equal(delivered.Partition.Value, KafkaQueueMapper.PartitionForKey(Encoding.UTF8.GetBytes(key), partitions));
        }
    }
}
