using System.Net;
using System.Text.Json;
using Amqp;
using Amqp.Framing;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// AMQP 1.0 into the platform end to end: a real silo process reads a queue of its own on the RabbitMQ that
/// scripts/servers.sh started (AMQP 1.0 plugin; queues named clinical* dead-letter rejected messages to the queue
/// 'dead-letters') while it is killed with SIGKILL twice and started again.
/// </summary>
public sealed class AmqpIngressTests
{
    private const string Variable = "CLINICAL_TEST_AMQP";
    private const string DeadLetters = "/queue/dead-letters";

    [Fact]
    public async Task Messages_published_while_the_silo_is_killed_twice_are_stored_once_or_quarantined_and_dead_lettered()
    {
        var ct = TestContext.Current.CancellationToken;
        var broker = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(broker))
        {
            Assert.Skip($"{Variable} is not set: run 'bash scripts/test.sh', which starts RabbitMQ, to run this test.");
        }

        var run = Guid.NewGuid().ToString("N");
        var queue = $"/queue/clinical-ingress-{run}";
        var corpus = BrokerCorpus.Build();
        var connection = await new ConnectionFactory().CreateAsync(new Address(broker));
        var dataDirectory = Directory.CreateTempSubdirectory("amqp-ingress-").FullName;
        SiloProcess? silo = null;
        try
        {
            var session = new Session(connection);
            // Attached first, so the dead-letter queue exists when the first rejection is routed to it.
            var deadLetters = new ReceiverLink(session, $"dead-letters-{run}", DeadLetters);
            deadLetters.SetCredit(1000);
            var sender = new SenderLink(session, $"publisher-{run}", queue);

            silo = await SiloProcess.StartAsync(dataDirectory, ct,
                $"--Brokers:Amqp:Address={broker}", $"--Brokers:Amqp:Queues:0={queue}", "--Pipeline:ScheduleEnabled=false",
                // A small window, so that credit runs out and comes back (back-pressure) many times during the run.
                "--Brokers:Amqp:Credit=2000", "--Brokers:Amqp:MaxBatch=500");
            var publishing = Task.Run(() => PublishAsync(sender, run, corpus.Records, ct), ct);
            foreach (var killAfter in new[] { BrokerCorpus.Valid / 6, BrokerCorpus.Valid / 2 })
            {
                await Eventually.UntilAsync(async () => await StatsAsync(silo, ct) is { } s && Accepted(s) >= killAfter ? "" : null,
                    TimeSpan.FromMinutes(3), $"{killAfter} messages stored before the kill");
                silo.Kill();
                silo = await silo.RestartAsync(ct);
            }

            await publishing;
            await Eventually.UntilAsync(async () => await StatsAsync(silo, ct) is { } s && Accepted(s) >= BrokerCorpus.Valid ? "" : null,
                TimeSpan.FromMinutes(5), "every valid message stored");
            var deadLettered = await DeadLetteredAsync(deadLetters, run, ct);

            // A graceful stop settles what it holds; then nothing is left in the queue: every message was settled.
            Assert.Equal(0, await silo.StopAsync(ct));
            var leftOver = new ReceiverLink(session, $"left-over-{run}", queue);
            leftOver.SetCredit(10);
            Assert.Null(await leftOver.ReceiveAsync(TimeSpan.FromSeconds(3)));

            silo = await silo.RestartAsync(ct);
            var stats = (await StatsAsync(silo, ct))!.Value;
            // Stored exactly once: a message stored twice, or lost, would show here.
            Assert.Equal(BrokerCorpus.Valid, Accepted(stats));
            Assert.True(stats.GetProperty("duplicates").GetInt64() >= BrokerCorpus.Duplicates, stats.ToString());
            // Quarantined exactly once: a rejection redelivered after a kill is a duplicate, not a second one.
            Assert.Equal(BrokerCorpus.Invalid, stats.GetProperty("rejected").GetInt64());

            // Each invalid message dead-lettered exactly once, and nothing else.
            Assert.Equal(BrokerCorpus.Invalid, deadLettered.Count);
            Assert.Equal(BrokerCorpus.Invalid, deadLettered.Select(m => m.Record).Distinct().Count());
            Assert.Equal(corpus.InvalidIds.Order(), deadLettered.Where(m => m.MessageId is not null).Select(m => m.MessageId!.Value).Order());

            using var http = silo.CreateClient();
            await corpus.AssertStatusesAsync(http, ct);
            // Every delivery is in the audit trail too, as an HTTP ingest request is.
            await corpus.AssertReceiptsAuditedAsync(http, $"broker:amqp:{new Address(broker).User}", ct);
        }
        finally
        {
            silo?.Kill();
            if (silo is not null)
            {
                await silo.DisposeAsync();
            }

            await connection.CloseAsync();
        }
    }

    /// <summary>Publishes every record (its index, with the run, as the AMQP message-id), up to 2,000 unsettled.</summary>
    private static async Task PublishAsync(SenderLink sender, string run, IReadOnlyList<(string Key, byte[] Value)> records, CancellationToken ct)
    {
        using var unsettled = new SemaphoreSlim(2000);
        var refused = 0;
        for (var i = 0; i < records.Count; i++)
        {
            await unsettled.WaitAsync(ct);
            var message = new Message
            {
                BodySection = new Data { Binary = records[i].Value },
                Header = new Header { Durable = true },
                Properties = new Properties { MessageId = $"{run}:{i}", GroupId = records[i].Key },
            };
            sender.Send(message, (_, _, outcome, _) =>
            {
                if (outcome is not Amqp.Framing.Accepted)
                {
                    Interlocked.Increment(ref refused);
                }

                unsettled.Release();
            }, null);
        }

        for (var slot = 0; slot < 2000; slot++)
        {
            await unsettled.WaitAsync(ct);
        }

        Assert.Equal(0, refused);
    }

    /// <summary>
    /// This run's messages in the dead-letter queue, until there are as many as invalid ones were published (others'
    /// left-overs in it are taken off too). Each with its record and, when the body is a message, its message_id.
    /// </summary>
    private static async Task<List<(string Record, Guid? MessageId)>> DeadLetteredAsync(ReceiverLink deadLetters, string run, CancellationToken ct)
    {
        var found = new List<(string, Guid?)>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (found.Count < BrokerCorpus.Invalid && DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (await deadLetters.ReceiveAsync(TimeSpan.FromSeconds(1)) is not { } message)
            {
                continue;
            }

            deadLetters.Accept(message);
            if (message.Properties?.MessageId is string record && record.StartsWith(run, StringComparison.Ordinal))
            {
                found.Add((record, MessageIdOf((byte[])message.Body)));
            }
        }

        return found;
    }

    private static Guid? MessageIdOf(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body).RootElement.GetProperty("message_id").GetGuid();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<JsonElement?> StatsAsync(SiloProcess silo, CancellationToken ct)
    {
        using var http = silo.CreateClient();
        using var response = await http.GetAsync("/api/clinical/stats", ct);
        return response.StatusCode == HttpStatusCode.OK ? await response.ReadJsonAsync() : null;
    }

    private static long Accepted(JsonElement stats) => stats.GetProperty("accepted").GetInt64();
}
