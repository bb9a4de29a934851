using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Streams.Kafka.Tests;
using Confluent.Kafka;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// Kafka into the platform end to end: a real silo process reads a topic of its own through the Kafka stream
/// provider while it is killed with SIGKILL and started again; the broker is the one scripts/servers.sh started (or a
/// real cluster, with KAFKA_BOOTSTRAP_SERVERS).
/// </summary>
public sealed class KafkaIngressTests
{
    private const int Invalid = BrokerCorpus.Invalid;
    private const int Duplicates = BrokerCorpus.Duplicates;
    private const int Valid = BrokerCorpus.Valid;

    [Fact]
    public async Task Messages_published_while_the_silo_is_killed_twice_are_stored_once_or_quarantined()
    {
        var ct = TestContext.Current.CancellationToken;
        var bootstrap = TestKafka.RequireBootstrap();
        var topic = $"ingress-{Guid.NewGuid():N}";
        var partitions = await TestKafka.CreateTopicAsync(bootstrap, topic);
        var corpus = BrokerCorpus.Build();
        var dataDirectory = Directory.CreateTempSubdirectory("kafka-ingress-").FullName;
        var silo = await SiloProcess.StartAsync(dataDirectory, ct,
            $"--Brokers:Kafka:BootstrapServers={bootstrap}", $"--Brokers:Kafka:Topics:0={topic}",
            $"--Brokers:Kafka:Partitions={partitions}", $"--Brokers:Kafka:GroupId={topic}", "--Pipeline:ScheduleEnabled=false",
            // A small cache, so that partitions are paused and resumed (back-pressure) during the run too.
            "--Brokers:Kafka:MaxUndeliveredPerPartition=2000");
        try
        {
            var publishing = Task.Run(() => PublishAsync(bootstrap, topic, corpus.Records, ct), ct);
            foreach (var killAfter in new[] { Valid / 6, Valid / 2 })
            {
                await Eventually.UntilAsync(async () => await StatsAsync(silo, ct) is { } s && Accepted(s) >= killAfter ? "" : null,
                    TimeSpan.FromMinutes(3), $"{killAfter} messages stored before the kill");
                silo.Kill();
                silo = await silo.RestartAsync(ct);
            }

            await publishing;
            var stats = await Eventually.UntilAsync(
                async () => await StatsAsync(silo, ct) is { } s && Accepted(s) >= Valid && await LagAsync(silo, ct) == 0 ? s.ToString() : null,
                TimeSpan.FromMinutes(5), "every valid message stored and every offset committed");
            var final = JsonDocument.Parse(stats).RootElement;

            // Stored exactly once: a message stored twice, or lost, would show here.
            Assert.Equal(Valid, Accepted(final));
            Assert.True(final.GetProperty("duplicates").GetInt64() >= Duplicates, final.ToString());
            // Quarantined exactly once: a rejection redelivered after a kill is a duplicate, not a second one.
            Assert.Equal(Invalid, final.GetProperty("rejected").GetInt64());

            using var http = silo.CreateClient();
            await corpus.AssertStatusesAsync(http, ct);
            // Every delivery is in the audit trail too, as an HTTP ingest request is.
            await corpus.AssertReceiptsAuditedAsync(http, "broker:kafka", ct);
            // The lag the health endpoint gave is published to Prometheus too, per partition of the topic.
            var scraped = await PrometheusText.ScrapeAsync(http);
            Assert.True(scraped.Has("kafka_stream_consumer_lag"), scraped.Text);
            Assert.Equal(0, scraped.Sum("kafka_stream_consumer_lag", ("topic", topic)));
        }
        finally
        {
            silo.Kill();
            await silo.DisposeAsync();
        }
    }

    private static async Task PublishAsync(string bootstrap, string topic, IReadOnlyList<(string Key, byte[] Value)> records, CancellationToken ct)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Partitioner = Partitioner.Murmur2Random, Acks = Acks.All, LingerMs = 5,
        }).Build();
        // At about 5,000 a second, so that both kills land while messages still arrive: the delay paces the load, it
        // does not wait for anything.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < records.Count; i++)
        {
            if (i % 500 == 0 && TimeSpan.FromSeconds(i / 5_000.0) - clock.Elapsed is { Ticks: > 0 } due)
            {
                await Task.Delay(due, ct);
            }

            producer.Produce(topic, new Message<string, byte[]> { Key = records[i].Key, Value = records[i].Value });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
    }

    private static async Task<JsonElement?> StatsAsync(SiloProcess silo, CancellationToken ct)
    {
        using var http = silo.CreateClient();
        using var response = await http.GetAsync("/api/clinical/stats", ct);
        return response.StatusCode == HttpStatusCode.OK ? await response.ReadJsonAsync() : null;
    }

    private static long Accepted(JsonElement stats) => stats.GetProperty("accepted").GetInt64();

    /// <summary>The consumer group's lag over all partitions, as the broker reports it through the health endpoint.</summary>
    private static async Task<long> LagAsync(SiloProcess silo, CancellationToken ct)
    {
        using var http = silo.CreateClient();
        using var response = await http.GetAsync("/api/clinical/health", ct);
        var kafka = (await response.ReadJsonAsync()).GetProperty("components").GetProperty("kafka");
        return kafka.TryGetProperty("partitions", out var partitions) ? partitions.EnumerateArray().Sum(p => p.GetProperty("lag").GetInt64()) : -1;
    }
}
