using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace ClinicalTrials.Streams.Kafka.Tests;

/// <summary>
/// The Kafka cluster tests use: <c>scripts/test.sh</c> sets <see cref="Variable"/> to <c>KAFKA_BOOTSTRAP_SERVERS</c>
/// (a real cluster) or to the mock cluster <c>scripts/servers.sh</c> started. With it set, a cluster that does not
/// answer fails the test; without it the test is skipped, with the reason.
/// </summary>
internal static class TestKafka
{
    public const string Variable = "CLINICAL_TEST_KAFKA";

    public static string RequireBootstrap()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            Assert.Skip($"{Variable} is not set: run 'bash scripts/test.sh', which starts a Kafka cluster, to run this test.");
        }

        return value;
    }

    /// <summary>
    /// A topic of the test's own, with 4 partitions where the cluster creates topics on request; librdkafka's mock
    /// cluster does not, and creates it on first use (with 4). Returns its partition count.
    /// </summary>
    public static async Task<int> CreateTopicAsync(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, AllowAutoCreateTopics = true }).Build();
        try
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 4, ReplicationFactor = 1 }],
                new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(2), OperationTimeout = TimeSpan.FromSeconds(2) });
        }
        catch (KafkaException)
        {
            // The mock cluster answers CreateTopics with a timeout; asking for the topic's metadata creates it.
        }

        try
        {
            var created = await Eventually.UntilAsync(
                () => Task.FromResult(admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.Single() is { Error.Code: Confluent.Kafka.ErrorCode.NoError, Partitions.Count: > 0 } metadata ? metadata : null),
                TimeSpan.FromSeconds(30), $"the Kafka cluster at {bootstrap} creates topic {topic}");
            return created.Partitions.Count;
        }
        catch (KafkaException e)
        {
            Assert.Fail($"The Kafka cluster at {bootstrap} does not answer ({Variable} says it should): {e.Message}");
            throw;
        }
    }
}
