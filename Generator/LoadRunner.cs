using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace ClinicalTrials.Generator;

/// <summary>
/// The load mode and ingest benchmark. At a fixed rate it sends single messages on an open-loop schedule and
/// measures each message's latency; at 'max' it sends NDJSON batches as fast as the gateway takes them.
/// Messages are generated before the clock starts, so the figures are the server's, not the generator's; an
/// optional warm-up (activating the patients' grains) runs first and is not measured.
/// </summary>
public sealed class LoadRunner(HttpClient http, GeneratorSettings settings, LoadRate rate)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly MediaTypeHeaderValue Ndjson = new("application/x-ndjson");

    private int BatchSize => rate.PerSecond is null ? settings.BatchSize : 1;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var (warmup, measured) = await MeasureAsync(cancellationToken);
        Report(measured);
        return measured.FailedRequests + (warmup?.FailedRequests ?? 0) == 0 ? 0 : 1;
    }

    /// <summary>Sends the warm-up (when asked for), then the measured messages; returns what each part got.</summary>
    public async Task<(LoadRun? Warmup, LoadRun Measured)> MeasureAsync(CancellationToken cancellationToken)
    {
        var requests = Prepare();
        var warmupRequests = (settings.Warmup + BatchSize - 1) / BatchSize;
        LoadRun? warmup = null;
        if (warmupRequests > 0)
        {
            warmup = await SendAsync(requests[..warmupRequests], $"Warming up with {settings.Warmup:N0} messages", cancellationToken);
        }

        return (warmup, await SendAsync(requests[warmupRequests..], $"Sending {settings.Count:N0} messages", cancellationToken));
    }

    private async Task<LoadRun> SendAsync(List<(byte[] Body, int Messages)> requests, string description, CancellationToken cancellationToken)
    {
        var size = BatchSize;
        var latencies = new List<double>(requests.Count);
        var outcomes = new LoadRun.Tally();
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(rate.PerSecond is null ? settings.Concurrency : 512);

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask($"{description} ({(rate.PerSecond is { } r ? $"{r:N0}/s" : $"max, batches of {size}")})", maxValue: requests.Count);
                var inFlight = new List<Task>(requests.Count);
                for (var i = 0; i < requests.Count; i++)
                {
                    if (rate.PerSecond is { } perSecond)
                    {
                        var due = TimeSpan.FromSeconds(i / perSecond) - clock.Elapsed;
                        if (due > TimeSpan.Zero)
                        {
                            await Task.Delay(due, cancellationToken);
                        }
                    }

                    await gate.WaitAsync(cancellationToken);
                    var index = i;
                    inFlight.Add(Task.Run(async () =>
                    {
                        try
                        {
                            var started = Stopwatch.GetTimestamp();
                            using var content = new ByteArrayContent(requests[index].Body) { Headers = { ContentType = size == 1 ? Json : Ndjson } };
                            using var response = await http.PostAsync(size == 1 ? "/api/clinical/data" : "/api/clinical/data/batch", content, cancellationToken);
                            var body = await response.Content.ReadAsStringAsync(cancellationToken);
                            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                            lock (latencies)
                            {
                                latencies.Add(elapsed);
                            }

                            outcomes.Add((int)response.StatusCode, body, requests[index].Messages, batch: size > 1);
                        }
                        catch (HttpRequestException e)
                        {
                            outcomes.Fail(e.HttpRequestError == HttpRequestError.ConnectionError ? $"no connection ({e.Message})" : e.Message);
                        }
                        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                            outcomes.Fail($"no answer within {http.Timeout.TotalSeconds:N0} s");
                        }
                        finally
                        {
                            gate.Release();
                            bar.Increment(1);
                        }
                    }, cancellationToken));
                }

                await Task.WhenAll(inFlight);
            });

        return outcomes.ToRun(requests.Sum(r => r.Messages), requests.Count, [.. latencies], clock.Elapsed);
    }

    private List<(byte[] Body, int Messages)> Prepare()
    {
        var trial = settings.NewTrial();
        var start = DateTimeOffset.UtcNow;
        var requests = new List<(byte[], int)>();
        var builder = new StringBuilder();
        var total = settings.Warmup + settings.Count;
        var inRequest = 0;
        for (var i = 0; i < total; i++)
        {
            builder.Append(trial.Next(settings.ClinicalTime(i, start), out _).ToJsonString()).Append('\n');
            // A request never mixes warm-up and measured messages.
            if (++inRequest == BatchSize || i == total - 1 || i == settings.Warmup - 1)
            {
                requests.Add((Encoding.UTF8.GetBytes(builder.ToString()), inRequest));
                builder.Clear();
                inRequest = 0;
            }
        }

        return requests;
    }

    private void Report(LoadRun run)
    {
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("messages sent", $"{run.Messages:N0}");
        table.AddRow("requests", $"{run.Requests:N0} ({(BatchSize == 1 ? "single" : $"batches of {BatchSize}")})");
        table.AddRow("elapsed", $"{run.Elapsed.TotalSeconds:N2} s");
        table.AddRow("throughput (messages answered)", $"{run.Answered / run.Elapsed.TotalSeconds:N0} messages/s");
        if (run.Latencies.Length > 0)
        {
            var latencies = run.Latencies.Order().ToArray();
            double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
            table.AddRow("request latency p50 / p90 / p99 / max", $"{Percentile(0.50):N2} / {Percentile(0.90):N2} / {Percentile(0.99):N2} / {latencies[^1]:N2} ms");
        }

        table.AddRow("messages accepted / duplicate / rejected (invalid on purpose)", $"{run.Accepted:N0} / {run.Duplicates:N0} / {run.Rejected:N0}");
        table.AddRow("failed requests (no answer or 5xx)", run.FailedRequests == 0
            ? "0"
            : $"{run.FailedRequests:N0}: " + string.Join("; ", run.Failures.OrderByDescending(f => f.Value).Select(f => $"{f.Value:N0} × {f.Key}")));
        AnsiConsole.Write(table);
    }
}

/// <summary>What one part of a load run got: messages by outcome, failed requests by reason, request latencies.</summary>
public sealed record LoadRun(
    int Messages, int Requests, double[] Latencies, TimeSpan Elapsed, long Accepted, long Duplicates, long Rejected,
    IReadOnlyDictionary<string, int> Failures)
{
    public long Answered => Accepted + Duplicates + Rejected;

    public int FailedRequests => Failures.Values.Sum();

    /// <summary>Counts the answers as they come, from any thread.</summary>
    public sealed class Tally
    {
        private readonly Dictionary<string, int> _failures = [];
        private long _accepted;
        private long _duplicates;
        private long _rejected;

        /// <summary>An answer: a single message's status, or a batch reply's counts (its messages judged one by one).</summary>
        public void Add(int status, string body, int messages, bool batch)
        {
            switch (status)
            {
                case 202 when !batch:
                    Interlocked.Add(ref _accepted, messages);
                    break;
                case 200 when !batch:
                    Interlocked.Add(ref _duplicates, messages);
                    break;
                case 200:
                    var reply = JsonDocument.Parse(body).RootElement;
                    Interlocked.Add(ref _accepted, reply.GetProperty("accepted").GetInt64());
                    Interlocked.Add(ref _duplicates, reply.GetProperty("duplicates").GetInt64());
                    Interlocked.Add(ref _rejected, reply.GetProperty("rejected").GetInt64());
                    break;
                case 400 when !batch:
                    Interlocked.Add(ref _rejected, messages);
                    break;
                default:
                    Fail($"HTTP {status}");
                    break;
            }
        }

        public void Fail(string reason)
        {
            lock (_failures)
            {
                _failures[reason] = _failures.GetValueOrDefault(reason) + 1;
            }
        }

        public LoadRun ToRun(int messages, int requests, double[] latencies, TimeSpan elapsed)
        {
            lock (_failures)
            {
                return new LoadRun(messages, requests, latencies, elapsed, _accepted, _duplicates, _rejected, new Dictionary<string, int>(_failures));
            }
        }
    }
}
