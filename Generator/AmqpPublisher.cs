using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amqp;
using Amqp.Framing;
using Spectre.Console;

namespace ClinicalTrials.Generator;

/// <summary>
/// Publishes the synthetic trial to an AMQP 1.0 queue (RabbitMQ, IBM MQ, Artemis): one message per clinical message,
/// its body the JSON as a data section, durable, with <c>message-id</c> = message_id and <c>group-id</c> = patient_id
/// (brokers with message groups keep a patient's messages in order). Each send waits for the broker's outcome, up to
/// <see cref="GeneratorSettings.Concurrency"/> x 1000 unsettled at once. With <c>--await-ingest</c> it then polls the
/// gateway's <c>/api/clinical/stats</c> until the platform has taken every published message in (stored, duplicate
/// or quarantined) and reports the end-to-end rate.
/// </summary>
public sealed class AmqpPublisher(GeneratorSettings settings, string address, string queue, bool awaitIngest)
{
    private static readonly string[] PayloadTypes = ["patient_demographics", "vital_signs", "lab_results", "adverse_event"];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var trial = settings.NewTrial();
        var start = DateTimeOffset.UtcNow;
        var messages = Enumerable.Range(0, settings.Count).Select(i => Message(trial.Next(settings.ClinicalTime(i, start), out _))).ToList();

        using var http = new HttpClient { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(30) };
        var before = awaitIngest ? await ReceivedAsync(http, cancellationToken) : 0;

        var connection = await new ConnectionFactory().CreateAsync(new Address(address));
        var failures = 0L;
        try
        {
            var session = new Session(connection);
            var sender = new SenderLink(session, $"clinical-generator-{Guid.NewGuid():N}",
                new Target { Address = queue, Capabilities = [new Amqp.Types.Symbol("queue")] }, null);
            using var unsettled = new SemaphoreSlim(Math.Max(1, settings.Concurrency) * 1000);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < messages.Count; i++)
            {
                if (settings.Rate?.PerSecond is { } perSecond && TimeSpan.FromSeconds(i / perSecond) - clock.Elapsed is { Ticks: > 0 } due)
                {
                    await Task.Delay(due, cancellationToken);
                }

                await unsettled.WaitAsync(cancellationToken);
                sender.Send(messages[i], (_, _, outcome, _) =>
                {
                    if (outcome is not Accepted)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    unsettled.Release();
                }, null);
            }

            // Every send is settled when all the semaphore's slots are back.
            for (var slot = 0; slot < Math.Max(1, settings.Concurrency) * 1000; slot++)
            {
                await unsettled.WaitAsync(cancellationToken);
            }

            var publishTime = clock.Elapsed;
            await sender.CloseAsync();
            var table = new Table().AddColumns("measure", "value");
            table.AddRow("messages published", $"{messages.Count - failures:N0} to {queue} ({failures:N0} refused by the broker)");
            table.AddRow("publish time", $"{publishTime.TotalSeconds:N2} s ({(messages.Count - failures) / publishTime.TotalSeconds:N0} messages/s)");
            if (awaitIngest)
            {
                var expected = before + messages.Count - failures;
                var deadline = Stopwatch.StartNew();
                while (await ReceivedAsync(http, cancellationToken) < expected && deadline.Elapsed < TimeSpan.FromMinutes(10))
                {
                    await Task.Delay(50, cancellationToken);
                }

                var taken = await ReceivedAsync(http, cancellationToken) - before;
                table.AddRow("taken in by the platform", $"{taken:N0} after {clock.Elapsed.TotalSeconds:N2} s ({taken / clock.Elapsed.TotalSeconds:N0} messages/s end to end, from the first publish)");
            }

            AnsiConsole.Write(table);
        }
        finally
        {
            await connection.CloseAsync();
        }

        return failures == 0 ? 0 : 1;
    }

    private static Message Message(JsonObject message)
    {
        var type = PayloadTypes.FirstOrDefault(message.ContainsKey);
        var patientId = type is not null && message[type] is JsonObject payload && payload["patient_id"] is JsonValue id && id.TryGetValue(out string? text) ? text : null;
        return new Message
        {
            BodySection = new Data { Binary = Encoding.UTF8.GetBytes(message.ToJsonString()) },
            Header = new Header { Durable = true },
            Properties = new Properties { MessageId = message["message_id"]?.ToString(), GroupId = patientId, ContentType = "application/json" },
        };
    }

    /// <summary>The platform's count of messages taken in (stored, duplicate or quarantined), from any source.</summary>
    private static async Task<long> ReceivedAsync(HttpClient http, CancellationToken cancellationToken) =>
        (await http.GetFromJsonAsync<JsonElement>("/api/clinical/stats", cancellationToken)).GetProperty("total_received").GetInt64();
}
