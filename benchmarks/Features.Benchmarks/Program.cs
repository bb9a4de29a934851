using System.Diagnostics;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Features.Benchmarks;

// Per-event cost of PatientFeatureState.Apply over a realistic day for 200 patients, and state size after 24 h.
const int Patients = 200;
var day = TimeSpan.FromHours(24);

Console.WriteLine($"Feature set {FeatureCatalogue.Version}: {FeatureCatalogue.Count} features");
Console.WriteLine($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");

// Warm up (tiered JIT) on a separate set of patients, so the measured run sees optimised code.
Run(SyntheticStream.Build(20, TimeSpan.FromHours(6), seed: 1), out _);

var stream = SyntheticStream.Build(Patients, day, seed: 42);
var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
var states = Run(stream, out var latencies);
var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore - (latencies.Length * sizeof(double));
Report("Apply, realistic mix", latencies);
Console.WriteLine($"Allocated by Apply (incl. state creation): {(double)allocated / latencies.Length:N1} B per event");

var sizes = states.Values.Select(s => s.ApproximateSizeBytes).Order().ToArray();
Console.WriteLine($"State after 24 h, realistic mix: median {sizes[sizes.Length / 2]:N0} B, max {sizes[^1]:N0} B");

// The size target: one patient holding 24 h of minute vitals (and nothing else), measured at steady state.
var vitalsOnly = new PatientFeatureState();
var minuteVitals = SyntheticStream.Patient("PT99999999", TimeSpan.FromHours(30), new Random(7)).Where(m => m.Payload is VitalSigns).ToList();
foreach (var message in minuteVitals[..(25 * 60)])
{
    vitalsOnly.Apply(message);
}

var steady = minuteVitals[(25 * 60)..];
var steadyBefore = GC.GetAllocatedBytesForCurrentThread();
foreach (var message in steady)
{
    vitalsOnly.Apply(message);
}

var steadyAllocated = GC.GetAllocatedBytesForCurrentThread() - steadyBefore;
Console.WriteLine($"Allocated by Apply at steady state (minute vitals after 25 h): {(double)steadyAllocated / steady.Count:N1} B per event");

Console.WriteLine($"State holding 24 h of minute vitals ({vitalsOnly.Current["vital_records_24h"]} records): {vitalsOnly.ApproximateSizeBytes:N0} B, "
    + $"serialised {vitalsOnly.Serialize().Length:N0} B");

// Offline: hourly vectors from one patient's day, through the same Apply.
var history = SyntheticStream.Patient("PT99999998", day, new Random(8)).ToList();
var replay = Stopwatch.StartNew();
var rows = FeatureReplay.Hourly(history).Count();
replay.Stop();
Console.WriteLine($"Offline replay: {history.Count:N0} events -> {rows} hourly vectors in {replay.Elapsed.TotalMilliseconds:N1} ms");

static Dictionary<string, PatientFeatureState> Run(List<ClinicalMessage> stream, out double[] latencies)
{
    var states = new Dictionary<string, PatientFeatureState>();
    latencies = new double[stream.Count];
    for (var i = 0; i < stream.Count; i++)
    {
        var message = stream[i];
        if (!states.TryGetValue(message.PatientId, out var state))
        {
            states[message.PatientId] = state = new PatientFeatureState();
        }

        var started = Stopwatch.GetTimestamp();
        state.Apply(message);
        latencies[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
    }

    return states;
}

static void Report(string name, double[] latencies)
{
    var sorted = latencies.Order().ToArray();
    double At(double q) => sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)];
    Console.WriteLine($"{name}: {sorted.Length:N0} events, median {At(0.5):N2} µs, p90 {At(0.9):N2} µs, p99 {At(0.99):N2} µs, "
        + $"max {sorted[^1]:N0} µs, mean {latencies.Average():N2} µs");
}
