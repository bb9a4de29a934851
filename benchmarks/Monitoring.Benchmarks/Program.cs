using System.Diagnostics;
using System.Globalization;
using ClinicalTrials.Benchmarks.Monitoring;
using ClinicalTrials.Models.Monitoring;

// Streams synthetic served rows (features and score) through the drift accumulators one row at a time, as monitoring
// reads the prediction log, and reports the time spent in the accumulators, the allocations they make and the process's
// peak memory. Rows are generated in chunks into one reused buffer, so the log is never held whole.
var options = args.Chunk(2).ToDictionary(pair => pair[0], pair => pair[1]);
var rows = long.Parse(options.GetValueOrDefault("--rows", "1000000"), CultureInfo.InvariantCulture);
var features = int.Parse(options.GetValueOrDefault("--features", "327"), CultureInfo.InvariantCulture);
var seed = int.Parse(options.GetValueOrDefault("--seed", "1"), CultureInfo.InvariantCulture);
if (options.ContainsKey("--log"))
{
    // --log DIR: the same rows written to a SQLite prediction log under DIR first, then one model version's window read
    // back as monitoring reads it (streamed, with the labels joined) into a ModelWindow: the log's share of a run.
    await LogWindowBenchmark.RunAsync(options["--log"], rows, features, seed);
    return;
}

const int ReferenceRows = 20_000;
const int Chunk = 10_000;
const int ShiftedFeatures = 5;

var random = new Random(seed);
var means = Enumerable.Range(0, features).Select(_ => random.NextDouble() * 100).ToArray();
var spreads = Enumerable.Range(0, features).Select(_ => 1 + random.NextDouble() * 10).ToArray();
var missingShares = Enumerable.Range(0, features).Select(f => f % 4 == 0 ? 0.2 : 0.01).ToArray();

// The first features of the served log are shifted by one spread, so the run also shows the drift being found.
void Fill(Span<float> row, bool served)
{
    for (var f = 0; f < row.Length; f++)
    {
        var shift = served && f < ShiftedFeatures ? spreads[f] : 0;
        row[f] = random.NextDouble() < missingShares[f]
            ? float.NaN
            : (float)(means[f] + shift + spreads[f] * (random.NextDouble() + random.NextDouble() - 1));
    }
}

var referenceRows = new float[ReferenceRows][];
for (var i = 0; i < ReferenceRows; i++)
{
    referenceRows[i] = new float[features];
    Fill(referenceRows[i], served: false);
}

var references = Enumerable.Range(0, features).Select(f => ReferenceDistribution.FromSample($"feature_{f}", referenceRows.Select(r => r[f]))).ToList();
var scoreReference = ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, referenceRows.Select(r => (float)random.NextDouble()));
var featureDrift = new DriftAccumulator(references);
var scoreDrift = new DriftAccumulator([scoreReference]);

var buffer = new float[Chunk * features];
var scores = new float[Chunk];
var inAccumulators = new Stopwatch();
var wall = Stopwatch.StartNew();
long allocated = 0;
for (long done = 0; done < rows; done += Chunk)
{
    var count = (int)Math.Min(Chunk, rows - done);
    for (var i = 0; i < count; i++)
    {
        Fill(buffer.AsSpan(i * features, features), served: true);
        scores[i] = (float)random.NextDouble();
    }

    var before = GC.GetAllocatedBytesForCurrentThread();
    inAccumulators.Start();
    for (var i = 0; i < count; i++)
    {
        featureDrift.Add(buffer.AsSpan(i * features, features));
        scoreDrift.Add(scores.AsSpan(i, 1));
    }

    inAccumulators.Stop();
    allocated += GC.GetAllocatedBytesForCurrentThread() - before;
}

var results = Stopwatch.StartNew();
var drift = featureDrift.Results();
var score = scoreDrift.Results()[0];
results.Stop();
wall.Stop();

Console.WriteLine($"rows {rows:N0} x {features} features (+ score), reference {ReferenceRows:N0} rows, {ReferenceDistribution.DefaultBins} bins");
Console.WriteLine($"accumulators: {inAccumulators.Elapsed.TotalSeconds:0.00} s ({rows / inAccumulators.Elapsed.TotalSeconds:N0} rows/s), allocated while adding: {allocated:N0} B");
Console.WriteLine($"results (PSI, KS, p-values): {results.Elapsed.TotalMilliseconds:0.0} ms; whole run incl. generating rows: {wall.Elapsed.TotalSeconds:0.0} s");
Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1024 / 1024:N0} MiB");
Console.WriteLine($"score PSI {score.Psi:0.0000}; top drifting features:");
foreach (var d in drift.Take(ShiftedFeatures + 2))
{
    Console.WriteLine($"  {d.Name,-12} PSI {d.Psi:0.000}  KS {d.Ks:0.000}  p {d.KsPValue:0.###E+0}  missing {d.MissingShare:P1} (reference {d.ReferenceMissingShare:P1})");
}
