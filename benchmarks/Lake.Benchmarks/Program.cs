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

// dotnet run -c Release --project benchmarks/Lake.Benchmarks -- generate|bronze-to-silver|offline-features DIR [events] [patients] [days]
// Each phase runs in its own process so that its peak working set is its own.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: generate|bronze-to-silver|offline-features DIR [events=1000000] [patients=2000] [days=7]");
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

    var bytes = Directory.EnumerateFiles(Path.Combine(dir, "raw"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"generated {events:N0} events, {patients:N0} patients, {days} days: {writers.Count} bronze files, {bytes / 1e6:N0} MB");
    return 0;
}

var lake = new LakeContext(dir, new LocalLakeStorage(dir), new PipelineOptions(), TimeProvider.System);
var jobs = new PipelineJobs(lake);
var watch = Stopwatch.StartNew();
var record = phase switch
{
    "offline-features" => await jobs.RunAsync(OfflineFeaturesJob.JobName, new JobArguments(DateOnly.FromDateTime(start.UtcDateTime), DateOnly.FromDateTime(end.UtcDateTime))),
    _ => await jobs.RunAsync(BronzeToSilverJob.JobName, JobArguments.Incremental),
};
watch.Stop();
var peak = Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"{phase}: {record.Status} {record.Error}");
Console.WriteLine($"  rows in {record.RowsIn:N0}, rows out {record.RowsOut:N0}, {watch.Elapsed.TotalSeconds:N2} s");
Console.WriteLine($"  {record.RowsIn / watch.Elapsed.TotalSeconds:N0} rows in/s, {record.RowsOut / watch.Elapsed.TotalSeconds:N0} rows out/s");
Console.WriteLine($"  peak working set {peak / (1024.0 * 1024):N0} MiB; GC collections gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, paused {GC.GetTotalPauseDuration().TotalSeconds:N2} s");
Console.WriteLine($"  details: {string.Join(", ", record.Details.Select(d => $"{d.Key}={d.Value}"))}");
return record.Status == "succeeded" ? 0 : 1;
