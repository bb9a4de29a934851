using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.Time.Testing;

namespace ClinicalTrials.Lake.Tests;

/// <summary>A fresh data directory with bronze written the way the journal writes it, and the lake's jobs over it.</summary>
internal sealed class TestLake : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The site of the lake tests' messages.</summary>
    public const string Site = "SITE001";

    private readonly ClinicalTrials.TestSupport.DataDirectory _directory = new();

    public TestLake(PipelineOptions? options = null, ILakeStorage? storage = null)
    {
        Clock = new FakeTimeProvider(Now);
        Storage = storage ?? new LocalLakeStorage(DataDirectory);
        Context = new LakeContext(DataDirectory, Storage, options ?? new PipelineOptions(), Clock);
        Jobs = new PipelineJobs(Context);
    }

    public string DataDirectory => _directory.Path;

    public FakeTimeProvider Clock { get; }

    public ILakeStorage Storage { get; }

    public LakeContext Context { get; }

    public PipelineJobs Jobs { get; }

    /// <summary>Appends bronze lines (received at <paramref name="receivedAt"/>) to a part file; returns its path.</summary>
    public string WriteBronze(DateTimeOffset receivedAt, IEnumerable<JsonObject> messages, string part = "part-test-000.ndjson")
    {
        string? path = null;
        foreach (var message in messages)
        {
            var type = PayloadTypes.All.First(t => message.ContainsKey(t.WireName()));
            path = Path.Combine(DataDirectory, BronzeRecord.RawPartition(type, receivedAt), part);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var record = new BronzeRecord(Guid.Parse((string)message["message_id"]!), receivedAt, Encoding.UTF8.GetBytes(message.ToJsonString()), []);
            File.AppendAllText(path, Encoding.UTF8.GetString(record.ToLine()));
        }

        return path!;
    }

    public Task<JobRunRecord> RunAsync(string job, DateOnly? from = null, DateOnly? to = null) => Jobs.RunAsync(job, new JobArguments(from, to));

    /// <summary>Every file under a folder of the lake with its bytes, keyed by relative path.</summary>
    public Dictionary<string, byte[]> Snapshot(string folder)
    {
        var root = Path.Combine(DataDirectory, folder);
        return Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(p => Path.GetRelativePath(DataDirectory, p), File.ReadAllBytes)
            : [];
    }

    /// <summary>Another process's view of the same data directory (fresh state handles), optionally over other storage.</summary>
    public sealed class Rerun(TestLake lake, ILakeStorage? storage = null, PipelineOptions? options = null) : IDisposable
    {
        private readonly PipelineJobs _jobs = new(new LakeContext(lake.DataDirectory, storage ?? new LocalLakeStorage(lake.DataDirectory),
            options ?? lake.Context.Options, lake.Clock));

        public Task<JobRunRecord> RunAsync(string job, DateOnly? from = null, DateOnly? to = null) => _jobs.RunAsync(job, new JobArguments(from, to));

        public void Dispose()
        {
        }
    }

    public void Dispose() => _directory.Dispose();
}
