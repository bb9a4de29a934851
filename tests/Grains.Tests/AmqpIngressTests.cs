using System.Text;
using Amqp;
using Amqp.Framing;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// <see cref="AmqpIngress"/> in an in-process silo: what a message's body is taken to be, and (against the RabbitMQ that
/// scripts/servers.sh starts, <c>CLINICAL_TEST_AMQP</c>) that a message the journal cannot take now is released and
/// stored once it can.
/// </summary>
public sealed class AmqpIngressTests
{
    private const string Variable = "CLINICAL_TEST_AMQP";

    [Fact]
    public void The_body_is_a_data_section_or_a_binary_or_string_value_and_anything_else_is_empty()
    {
        var json = "{\"message_id\":\"x\"}";
        Assert.Equal(json, Text(new Message { BodySection = new Data { Binary = Encoding.UTF8.GetBytes(json) } }));
        Assert.Equal(json, Text(new Message(Encoding.UTF8.GetBytes(json))));
        Assert.Equal(json, Text(new Message(json)));
        Assert.Equal("", Text(new Message { BodySection = new AmqpSequence { List = new List<object> { 1, 2 } } }));
        Assert.Equal("", Text(new Message()));

        static string Text(Message message) => Encoding.UTF8.GetString(AmqpIngress.BodyOf(message).Span);
    }

    [Fact]
    public async Task A_message_the_journal_cannot_take_now_is_released_and_stored_once_it_can()
    {
        var broker = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(broker))
        {
            Assert.Skip($"{Variable} is not set: run 'bash scripts/test.sh', which starts RabbitMQ, to run this test.");
        }

        var queue = $"/queue/clinical-release-{Guid.NewGuid():N}";
        var faults = new FailingWalSyncs(2);
        var receipts = new RecordedReceipts();
        using var data = new DataDirectory();
        await using var cluster = await ClinicalCluster.StartAsync(data.Path, services =>
        {
            services.AddSingleton<JournalFaults>(faults);
            services.AddSingleton<IBrokerReceipts>(receipts);
            services.Configure<AmqpIngressOptions>(o =>
            {
                o.Address = broker;
                o.Queues.Add(queue);
            });
            services.AddHostedService<AmqpIngress>();
        });

        var connection = await new ConnectionFactory().CreateAsync(new Address(broker));
        try
        {
            var session = new Session(connection);
            var sender = new SenderLink(session, "publisher", queue);
            var id = Guid.NewGuid();
            var body = Vitals(NewPatientId(), NewSiteId(), DateTimeOffset.UtcNow.AddMinutes(-1), 80, id).ToJsonString();
            await sender.SendAsync(new Message { BodySection = new Data { Binary = Encoding.UTF8.GetBytes(body) } });

            var stored = await Eventually.UntilAsync(() => cluster.Journal.FindAsync(id), TimeSpan.FromSeconds(60), "the message is stored");

            Assert.Equal(IngestStatus.Accepted, stored.Status);
            // Two commits failed: the message was delivered three times, released twice, then accepted.
            Assert.Equal(2, faults.Injected);
            // Each delivery's receipt was recorded before it was settled: two to be delivered again, then the stored one.
            var address = new Address(broker);
            Assert.Equal([IngestStatus.Unavailable, IngestStatus.Unavailable, IngestStatus.Accepted], receipts.Records.Select(r => Assert.Single(r.Statuses)));
            Assert.All(receipts.Records, r => Assert.Equal(($"broker:amqp:{address.User}", $"amqp://{address.Host}:{address.Port} {queue}"), (r.Actor, r.Source)));
            var leftOver = new ReceiverLink(session, "left-over", queue);
            leftOver.SetCredit(1);
            Assert.Null(await leftOver.ReceiveAsync(TimeSpan.FromSeconds(2)));
        }
        finally
        {
            await connection.CloseAsync();
        }
    }

    /// <summary>Fails the first <paramref name="count"/> WAL syncs: those commits are refused (the journal is unavailable).</summary>
    private sealed class FailingWalSyncs(int count) : JournalFaults
    {
        private int _syncs;

        public int Injected => Math.Min(Volatile.Read(ref _syncs), count);

        public override void At(CommitStep step)
        {
            if (step == CommitStep.WalSync && Interlocked.Increment(ref _syncs) <= count)
            {
                throw new IOException("Injected WAL sync failure.");
            }
        }
    }

    /// <summary>The receipts the ingress recorded, in order (the audit trail itself is the API's, tested in Api.Tests).</summary>
    private sealed class RecordedReceipts : IBrokerReceipts
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Actor, string Source, IngestStatus[] Statuses)> Records { get; } = new();

        public Task RecordAsync(string actor, string source, IReadOnlyList<ReceivedMessage> messages, IReadOnlyList<IngestResult> results)
        {
            Records.Enqueue((actor, source, [.. results.Select(r => r.Status)]));
            return Task.CompletedTask;
        }
    }
}
