using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>
/// An offline feature store built the platform's way: the messages written to bronze as the journal writes them (each
/// received when sent), then the lake's own bronze-to-silver and offline-features jobs over the data directory.
/// </summary>
internal static class SyntheticFeatureStore
{
    public static async Task BuildAsync(string dataDirectory, IEnumerable<(JsonObject Json, DateTimeOffset At)> messages, DateOnly from, DateOnly to)
    {
        foreach (var (json, at) in messages)
        {
            var type = PayloadTypes.All.First(t => json.ContainsKey(t.WireName()));
            var path = Path.Combine(dataDirectory, BronzeRecord.RawPartition(type, at), "part-test-000.ndjson");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var record = new BronzeRecord(Guid.Parse((string)json["message_id"]!), at, Encoding.UTF8.GetBytes(json.ToJsonString()), []);
            await File.AppendAllTextAsync(path, Encoding.UTF8.GetString(record.ToLine()), TestContext.Current.CancellationToken);
        }

        var jobs = new PipelineJobs(new LakeContext(dataDirectory, new LocalLakeStorage(dataDirectory), new PipelineOptions(), TimeProvider.System));
        var silver = await jobs.RunAsync(BronzeToSilverJob.JobName, JobArguments.Incremental, TestContext.Current.CancellationToken);
        Assert.Equal("succeeded", silver.Status);
        var features = await jobs.RunAsync(OfflineFeaturesJob.JobName, new JobArguments(from, to), TestContext.Current.CancellationToken);
        Assert.Equal("succeeded", features.Status);
    }
}
