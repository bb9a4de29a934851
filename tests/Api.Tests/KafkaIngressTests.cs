using System.Diagnostics;
using System.Net;
using System.Text;
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
    private const int Published = 50_000;
    private const int Invalid = 1_000;       // 2 %: 900 out of range, 100 not JSON at all
    private const int NotJson = 100;
    private const int Duplicates = 500;      // 1 %: the same bytes (the same message_id) published again
    private const int Valid = Published - Invalid - Duplicates;

    [Fact]
    public async Task Messages_published_while_the_silo_is_killed_twice_are_stored_once_or_quarantined()
    {
        var ct = TestContext.Current.CancellationToken;
        var bootstrap = TestKafka.RequireBootstrap();
        var topic = $"ingress-{Guid.NewGuid():N}";
        var partitions = await TestKafka.CreateTopicAsync(bootstrap, topic);
        var corpus = Corpus.Build();
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
            Assert.True(final.GetProperty("rejected").GetInt64() >= Invalid, final.ToString());

            using var http = silo.CreateClient();
            foreach (var id in corpus.InvalidIds)
            {
                var message = await (await http.GetAsync($"/api/clinical/messages/{id}", ct)).ExpectAsync(200);
                Assert.Equal("rejected", message.GetProperty("status").GetString());
            }

            foreach (var id in corpus.ValidIds.Where((_, i) => i % 97 == 0))
            {
                var message = await (await http.GetAsync($"/api/clinical/messages/{id}", ct)).ExpectAsync(200);
                Assert.Equal("accepted", message.GetProperty("status").GetString());
            }
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
        // At about 5,000 a second, so that both kills land while messages still arrive.
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

    /// <summary>The published records, keyed by patient_id: valid vitals, invalid ones, and earlier ones again.</summary>
    private sealed record Corpus(List<(string Key, byte[] Value)> Records, List<Guid> ValidIds, List<Guid> InvalidIds)
    {
        public static Corpus Build()
        {
            var random = new Random(14);
            var patients = Enumerable.Range(0, 1_000).Select(_ => TestMessages.NewPatientId()).ToArray();
            var site = TestMessages.NewSiteId();
            var records = new List<(string, byte[])>(Published);
            var validIds = new List<Guid>();
            var invalidIds = new List<Guid>();
            var valid = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
            var start = DateTimeOffset.UtcNow.AddHours(-2);
            for (var i = 0; i < Published; i++)
            {
                var patient = patients[random.Next(patients.Length)];
                var kind = i % 100;
                if (kind == 50 && records.Count > 0)
                {
                    // A duplicate: an earlier valid record, byte for byte (a producer's retry, a replayed topic).
                    var (key, value) = records[random.Next(records.Count)];
                    while (!valid.Contains(value))
                    {
                        (key, value) = records[random.Next(records.Count)];
                    }

                    records.Add((key, value));
                }
                else if (kind is 10 or 60)
                {
                    if (i % 1_000 is 10 or 60)
                    {
                        records.Add((patient, Encoding.UTF8.GetBytes($"not json {i} {{")));
                    }
                    else
                    {
                        var message = TestMessages.HeartRateOnly(900, site, patient, start.AddMilliseconds(i));
                        invalidIds.Add(TestMessages.IdOf(message));
                        records.Add((patient, Encoding.UTF8.GetBytes(message.ToJsonString())));
                    }
                }
                else
                {
                    var message = TestMessages.Vitals(patient, site, heartRate: 60 + random.Next(60), at: start.AddMilliseconds(i));
                    validIds.Add(TestMessages.IdOf(message));
                    var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
                    valid.Add(bytes);
                    records.Add((patient, bytes));
                }
            }

            Assert.Equal(Valid, validIds.Count);
            Assert.Equal(Invalid - NotJson, invalidIds.Count);
            return new Corpus(records, validIds, invalidIds);
        }
    }
}
