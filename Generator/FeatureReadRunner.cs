using System.Diagnostics;
using Spectre.Console;

namespace ClinicalTrials.Generator;

/// <summary>
/// The read benchmarks: <c>GET /api/patients/{id}/features</c> (online features) or, with <paramref name="predict"/>,
/// <c>POST /predict</c> (scoring with the production model, prediction log included) for the trial's patients (same
/// <c>--seed</c> and <c>--patients</c> as the load that stored them) on an open-loop schedule at a fixed rate,
/// timing each request. A warm-up reads every patient several times first, so every grain is active and the
/// server's code is fully compiled (tiered JIT) before the clock starts.
/// </summary>
public sealed class FeatureReadRunner(HttpClient http, GeneratorSettings settings, double perSecond, bool predict = false)
{
    private const int WarmUpRounds = 10;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var patients = settings.NewTrial().PatientIds;
        var missing = 0;
        for (var round = 0; round < WarmUpRounds; round++)
        {
            foreach (var patient in patients)
            {
                using var response = await SendAsync(patient, cancellationToken);
                missing += round == 0 && !response.IsSuccessStatusCode ? 1 : 0;
            }
        }

        var latencies = new double[settings.Count];
        var failures = 0;
        var order = new Random(settings.Seed);
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>(settings.Count);
        for (var i = 0; i < settings.Count; i++)
        {
            var due = TimeSpan.FromSeconds(i / perSecond) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            var (index, patient) = (i, patients[order.Next(patients.Count)]);
            inFlight.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await SendAsync(patient, cancellationToken);
                    await response.Content.LoadIntoBufferAsync(cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }

                latencies[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }, cancellationToken));
        }

        await Task.WhenAll(inFlight);
        Report(latencies, clock.Elapsed, failures, patients.Count, missing);
        return failures == 0 && missing == 0 ? 0 : 1;
    }

    private Task<HttpResponseMessage> SendAsync(string patientId, CancellationToken cancellationToken) => predict
        ? http.PostAsync("/predict", new StringContent($"{{\"patient_id\":\"{patientId}\"}}", System.Text.Encoding.UTF8, "application/json"), cancellationToken)
        : http.GetAsync($"/api/patients/{patientId}/features", cancellationToken);

    private void Report(double[] latencies, TimeSpan elapsed, int failures, int patients, int missing)
    {
        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        var table = new Table().AddColumns("measure", "value");
        table.AddRow($"patients (warm-up: {WarmUpRounds} reads each)", $"{patients:N0}, {missing:N0} not found");
        table.AddRow("requests", $"{latencies.Length:N0} {(predict ? "POST /predict" : "GET features")} at {perSecond:N0}/s target");
        table.AddRow("elapsed", $"{elapsed.TotalSeconds:N2} s ({latencies.Length / elapsed.TotalSeconds:N0} requests/s)");
        table.AddRow("latency p50 / p90 / p99 / p99.9 / max",
            $"{Percentile(0.50):N2} / {Percentile(0.90):N2} / {Percentile(0.99):N2} / {Percentile(0.999):N2} / {latencies[^1]:N2} ms");
        table.AddRow("failed (not 200)", $"{failures:N0}");
        AnsiConsole.Write(table);
    }
}
