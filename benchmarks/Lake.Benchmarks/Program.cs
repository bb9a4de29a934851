using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Generator;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;

// dotnet run -c Release --project benchmarks/Lake.Benchmarks -- generate|bronze-to-silver|offline-features DIR [events] [patients] [days] [--cold]
// Each phase runs in its own process so that its peak working set is its own. Before the measured run the job runs over
// the first day's bronze in scratch directories, so the measured run finds its code compiled, as a silo's hourly run
// does; --cold skips that and measures a fresh process, JIT compilation included.
var cold = args.Contains("--cold");
args = [.. args.Where(a => a != "--cold")];
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: generate|bronze-to-silver|offline-features DIR [events=1000000] [patients=2000] [days=7] [--cold]");
    return 2;
}

var (phase, dir) = (args[0], Path.GetFullPath(args[1]));
var events = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000_000;
var patients = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2_000;
var days = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 7;
var end = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-1);
var start = end.AddDays(-days);

if (phase == "generate")
{
    // Valid messages only: bronze holds what the ingest accepted. Received a few seconds after the clinical time.
    var trial = new SyntheticTrial(seed: 7, patients, sites: 20, invalidShare: 0);
    var writers = new Dictionary<string, FileStream>(StringComparer.Ordinal);
    var step = (end - start).Ticks / events;
    for (var i = 0; i < events; i++)
    {
        var at = start.AddTicks(step * i);
        var message = trial.Next(at, out _);
        var type = PayloadTypes.All.First(t => message.ContainsKey(t.WireName()));
        var received = at.AddSeconds(3);
        var partition = BronzeRecord.RawPartition(type, received);
        if (!writers.TryGetValue(partition, out var stream))
        {
            var path = Path.Combine(dir, partition, "part-bench-000.ndjson");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            writers[partition] = stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }

        stream.Write(new BronzeRecord(Guid.Parse((string)message["message_id"]!), received, Encoding.UTF8.GetBytes(message.ToJsonString()), []).ToLine());
    }

    foreach (var stream in writers.Values)
    {
        stream.Dispose();
    }

    var bytes = Directory.EnumerateFiles(Path.Combine(dir, BronzeRecord.RawFolder), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"generated {events:N0} events, {patients:N0} patients, {days} days: {writers.Count} bronze files, {bytes / 1e6:N0} MB");
    return 0;
}

if (!cold)
{
    await WarmUpAsync(phase, dir, DateOnly.FromDateTime(start.UtcDateTime));
}

var (gen0, gen1, gen2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
var watch = Stopwatch.StartNew();
var record = await RunAsync(phase, dir, DateOnly.FromDateTime(start.UtcDateTime), DateOnly.FromDateTime(end.UtcDateTime));
watch.Stop();
var peak = Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"{phase}: {record.Status} {record.Error}");
Console.WriteLine($"  rows in {record.RowsIn:N0}, rows out {record.RowsOut:N0}, {watch.Elapsed.TotalSeconds:N2} s");
Console.WriteLine($"  {record.RowsIn / watch.Elapsed.TotalSeconds:N0} rows in/s, {record.RowsOut / watch.Elapsed.TotalSeconds:N0} rows out/s");
Console.WriteLine($"  peak working set {peak / (1024.0 * 1024):N0} MiB; GC collections gen0/1/2 {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}, paused {(GC.GetTotalPauseDuration() - paused).TotalSeconds:N2} s");
Console.WriteLine($"  details: {string.Join(", ", record.Details.Select(d => $"{d.Key}={d.Value}"))}");
return record.Status == "succeeded" ? 0 : 1;

static Task<JobRunRecord> RunAsync(string phase, string dir, DateOnly from, DateOnly to)
{
    var jobs = new PipelineJobs(new LakeContext(dir, new LocalLakeStorage(dir), new PipelineOptions(), TimeProvider.System));
    return phase == "offline-features"
        ? jobs.RunAsync(OfflineFeaturesJob.JobName, new JobArguments(from, to))
        : jobs.RunAsync(BronzeToSilverJob.JobName, JobArguments.Incremental);
}

// The job over the first day's bronze, three times, each in a fresh scratch directory: the runtime compiles hot code
// fully only once it stops meeting new methods, which one short run does not reach. The rounds' times show when the
// code is settled (the last ones about equal).
static async Task WarmUpAsync(string phase, string dir, DateOnly day)
{
    const int Rounds = 3;
    for (var round = 1; round <= Rounds; round++)
    {
        var scratch = Directory.CreateTempSubdirectory("lake-warm-up-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(dir, BronzeRecord.RawFolder), "*.ndjson", SearchOption.AllDirectories)
                         .Where(f => f.Contains($"/date={day:yyyy-MM-dd}/", StringComparison.Ordinal)))
            {
                var copy = Path.Combine(scratch, Path.GetRelativePath(dir, file));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }

            var watch = Stopwatch.StartNew();
            var warmUp = await RunAsync(BronzeToSilverJob.JobName, scratch, day, day);
            if (phase == "offline-features")
            {
                warmUp = await RunAsync(phase, scratch, day, day);
            }

            Console.WriteLine($"warm-up {round}/{Rounds} over {day}: {warmUp.RowsIn:N0} rows in, {watch.Elapsed.TotalSeconds:N2} s (not measured)");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
