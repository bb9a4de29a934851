using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace ClinicalTrials.Generator;

/// <summary>
/// The load mode and ingest benchmark. At a fixed rate it sends single messages on an open-loop schedule and
/// measures each message's latency; at 'max' it sends NDJSON batches as fast as the gateway takes them.
/// Messages are generated before the clock starts, so the figures are the server's, not the generator's.
/// </summary>
public sealed class LoadRunner(HttpClient http, GeneratorSettings settings, LoadRate rate)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly MediaTypeHeaderValue Ndjson = new("application/x-ndjson");

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var size = rate.PerSecond is null ? settings.BatchSize : 1;
        var requests = Prepare(size);
        var latencies = new double[requests.Count];
        var failures = 0;
        var rejected = 0;
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(rate.PerSecond is null ? settings.Concurrency : 512);

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask($"Sending {settings.Count:N0} messages ({(rate.PerSecond is { } r ? $"{r:N0}/s" : $"max, batches of {size}")})", maxValue: requests.Count);
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

        var elapsed = clock.Elapsed;
        Report(requests, latencies, elapsed, failures, rejected, size);
        return failures == 0 ? 0 : 1;
    }

    private List<(byte[] Body, int Messages)> Prepare(int size)
    {
        var trial = settings.NewTrial();
        var start = DateTimeOffset.UtcNow;
        var requests = new List<(byte[], int)>();
        var builder = new StringBuilder();
        var inRequest = 0;
        for (var i = 0; i < settings.Count; i++)
        {
            JsonObject message = trial.Next(settings.ClinicalTime(i, start), out _);
            builder.Append(message.ToJsonString()).Append('\n');
            if (++inRequest == size || i == settings.Count - 1)
            {
                requests.Add((Encoding.UTF8.GetBytes(builder.ToString()), inRequest));
                builder.Clear();
                inRequest = 0;
            }
        }

        return requests;
    }

    private void Report(List<(byte[] Body, int Messages)> requests, double[] latencies, TimeSpan elapsed, int failures, int rejected, int size)
    {
        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        var messages = requests.Sum(r => r.Messages);
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("messages", $"{messages:N0}");
        table.AddRow("requests", $"{requests.Count:N0} ({(size == 1 ? "single" : $"batches of {size}")})");
        table.AddRow("elapsed", $"{elapsed.TotalSeconds:N2} s");
        table.AddRow("throughput", $"{messages / elapsed.TotalSeconds:N0} messages/s");
        table.AddRow("request latency p50 / p90 / p99 / max", $"{Percentile(0.50):N2} / {Percentile(0.90):N2} / {Percentile(0.99):N2} / {latencies[^1]:N2} ms");
        table.AddRow("answered 400 (invalid on purpose)", $"{rejected:N0}");
        table.AddRow("failed (no answer or 5xx)", $"{failures:N0}");
        AnsiConsole.Write(table);
    }
}
