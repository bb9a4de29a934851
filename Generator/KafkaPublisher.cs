using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Spectre.Console;

namespace ClinicalTrials.Generator;

/// <summary>
/// Publishes the synthetic trial to Kafka, keyed by patient_id (Kafka's default partitioner keeps one patient's
/// messages in one partition, in order). <c>{type}</c> in the topic name gives one topic per payload type. With a
/// consumer group to follow, it also watches the group's committed offsets (a committed offset means every message
/// before it is durable on the platform) and reports, per message, the time from publish to committed, and when the
/// group has committed everything published.
/// </summary>
public sealed class KafkaPublisher(GeneratorSettings settings, string bootstrap, string topic, string? followGroup)
{
    private static readonly string[] PayloadTypes = ["patient_demographics", "vital_signs", "lab_results", "adverse_event"];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var trial = settings.NewTrial();
        var start = DateTimeOffset.UtcNow;
        var messages = Enumerable.Range(0, settings.Count).Select(i => trial.Next(settings.ClinicalTime(i, start), out _)).Select(Record).ToList();

        var published = new ConcurrentDictionary<TopicPartition, ConcurrentQueue<(long Offset, long Ticks)>>();
        var failures = 0L;
        var latencies = new ConcurrentBag<double>();
        using var follower = followGroup is null ? null : new CommitFollower(bootstrap, followGroup, published, latencies);
        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            // The Java client's partitioner, which the stream provider's queue mapper mirrors.
            Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
            Acks = Acks.All,
            LingerMs = 5,
            EnableIdempotence = true,
        }).Build();

        var clock = Stopwatch.StartNew();
        follower?.Start();
        for (var i = 0; i < messages.Count; i++)
        {
            if (settings.Rate?.PerSecond is { } perSecond && TimeSpan.FromSeconds(i / perSecond) - clock.Elapsed is { Ticks: > 0 } due)
            {
                await Task.Delay(due, cancellationToken);
            }

            var (recordTopic, key, value) = messages[i];
            var sentAt = Stopwatch.GetTimestamp();
            while (true)
            {
                try
                {
                    producer.Produce(recordTopic, new Message<string?, byte[]> { Key = key, Value = value }, report =>
                    {
                        if (report.Error.IsError)
                        {
                            Interlocked.Increment(ref failures);
                            return;
                        }

                        published.GetOrAdd(report.TopicPartition, _ => new()).Enqueue((report.Offset.Value, sentAt));
                    });
                    break;
                }
                catch (ProduceException<string?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }

        producer.Flush(cancellationToken);
        var publishTime = clock.Elapsed;
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("messages published", $"{messages.Count - failures:N0} to {topic} ({failures:N0} failed)");
        table.AddRow("publish time", $"{publishTime.TotalSeconds:N2} s ({(messages.Count - failures) / publishTime.TotalSeconds:N0} messages/s)");
        if (follower is not null)
        {
            var drained = await follower.WaitUntilCommittedAsync(TimeSpan.FromMinutes(10), cancellationToken);
            table.AddRow("all committed by group " + followGroup, drained
                ? $"{clock.Elapsed.TotalSeconds:N2} s after the first publish ({messages.Count / clock.Elapsed.TotalSeconds:N0} messages/s end to end), {(clock.Elapsed - publishTime).TotalSeconds:N2} s after the last"
                : "not within 10 minutes");
            var sorted = latencies.Order().ToArray();
            if (sorted.Length > 0)
            {
                double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
                table.AddRow("publish to committed p50 / p90 / p99 / max", $"{Percentile(0.5):N1} / {Percentile(0.9):N1} / {Percentile(0.99):N1} / {sorted[^1]:N1} ms ({sorted.Length:N0} messages)");
            }
        }

        AnsiConsole.Write(table);
        return failures == 0 ? 0 : 1;
    }

    private (string Topic, string? Key, byte[] Value) Record(JsonObject message)
    {
        var type = PayloadTypes.FirstOrDefault(message.ContainsKey) ?? "unknown";
        var patientId = message[type] is JsonObject payload && payload["patient_id"] is JsonValue id && id.TryGetValue(out string? text) ? text : null;
        return (topic.Replace("{type}", type, StringComparison.Ordinal), patientId, Encoding.UTF8.GetBytes(message.ToJsonString()));
    }

    /// <summary>Polls the group's committed offsets and times each published message from publish to committed.</summary>
    private sealed class CommitFollower(
        string bootstrap, string group, ConcurrentDictionary<TopicPartition, ConcurrentQueue<(long Offset, long Ticks)>> published, ConcurrentBag<double> latencies)
        : IDisposable
    {
        private readonly IConsumer<Ignore, Ignore> _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false,
        }).Build();

        private readonly CancellationTokenSource _stop = new();
        private Task? _polling;
        private volatile bool _allCommitted;

        public void Start() => _polling = Task.Run(PollAsync);

        public async Task<bool> WaitUntilCommittedAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = Stopwatch.StartNew();
            while (!_allCommitted && deadline.Elapsed < timeout)
            {
                await Task.Delay(10, cancellationToken);
            }

            return _allCommitted;
        }

        private async Task PollAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var partitions = published.Keys.ToList();
                if (partitions.Count > 0)
                {
                    var committed = _consumer.Committed(partitions, TimeSpan.FromSeconds(5));
                    var now = Stopwatch.GetTimestamp();
                    var waiting = false;
                    foreach (var offset in committed)
                    {
                        var queue = published[offset.TopicPartition];
                        while (queue.TryPeek(out var sent) && offset.Offset.Value > sent.Offset)
                        {
                            queue.TryDequeue(out _);
                            latencies.Add(Stopwatch.GetElapsedTime(sent.Ticks, now).TotalMilliseconds);
                        }

                        waiting |= !queue.IsEmpty;
                    }

                    _allCommitted = !waiting && latencies.Count > 0;
                }

                await Task.Delay(5);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _polling?.Wait();
            _consumer.Dispose();
        }
    }
}
