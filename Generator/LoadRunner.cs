using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
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
        var requests = Prepare();
        var warmupRequests = (settings.Warmup + BatchSize - 1) / BatchSize;
        Run? warmup = null;
        if (warmupRequests > 0)
        {
            warmup = await SendAsync(requests[..warmupRequests], $"Warming up with {settings.Warmup:N0} messages", cancellationToken);
        }

        var measured = await SendAsync(requests[warmupRequests..], $"Sending {settings.Count:N0} messages", cancellationToken);
        Report(measured);
        return measured.Failures + (warmup?.Failures ?? 0) == 0 ? 0 : 1;
    }

    private async Task<Run> SendAsync(List<(byte[] Body, int Messages)> requests, string description, CancellationToken cancellationToken)
    {
        var size = BatchSize;
        var latencies = new double[requests.Count];
        var failures = 0;
        var rejected = 0;
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
                            await response.Content.LoadIntoBufferAsync(cancellationToken);
                            latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                            if ((int)response.StatusCode == 400)
                            {
                                Interlocked.Increment(ref rejected);
                            }
                            else if (!response.IsSuccessStatusCode)
                            {
                                Interlocked.Increment(ref failures);
                            }
                        }
                        catch (HttpRequestException)
                        {
                            Interlocked.Increment(ref failures);
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

        return new Run(requests.Sum(r => r.Messages), requests.Count, latencies, clock.Elapsed, failures, rejected);
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

    private void Report(Run run)
    {
        var latencies = run.Latencies;
        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("messages", $"{run.Messages:N0}");
        table.AddRow("requests", $"{run.Requests:N0} ({(BatchSize == 1 ? "single" : $"batches of {BatchSize}")})");
        table.AddRow("elapsed", $"{run.Elapsed.TotalSeconds:N2} s");
        table.AddRow("throughput", $"{run.Messages / run.Elapsed.TotalSeconds:N0} messages/s");
        table.AddRow("request latency p50 / p90 / p99 / max", $"{Percentile(0.50):N2} / {Percentile(0.90):N2} / {Percentile(0.99):N2} / {latencies[^1]:N2} ms");
        table.AddRow("answered 400 (invalid on purpose)", $"{run.Rejected:N0}");
        table.AddRow("failed (no answer or 5xx)", $"{run.Failures:N0}");
        AnsiConsole.Write(table);
    }

    private sealed record Run(int Messages, int Requests, double[] Latencies, TimeSpan Elapsed, int Failures, int Rejected);
}
