using System.Net.Sockets;
using System.Text;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Tests;

/// <summary>
/// The S3 provider against a real S3-compatible server: the one <c>scripts/servers.sh</c> starts (s3rver), named by
/// <c>CLINICAL_TEST_S3</c>. With the variable set an unreachable server fails the tests; without it they are skipped.
/// </summary>
public sealed class S3StorageTests
{
    private static async Task<S3LakeStorage> StorageAsync(string scratch)
    {
        var url = Environment.GetEnvironmentVariable("CLINICAL_TEST_S3");
        if (string.IsNullOrEmpty(url))
        {
            Assert.Skip("CLINICAL_TEST_S3 is not set; scripts/test.sh starts s3rver and sets it.");
        }

        var uri = new Uri(url);
        using (var probe = new TcpClient())
        {
            try
            {
                await probe.ConnectAsync(uri.Host, uri.Port);
            }
            catch (SocketException e)
            {
                Assert.Fail($"CLINICAL_TEST_S3={url} is set but nothing answers there: {e.Message}");
            }
        }

        // s3rver accepts any credentials; each test gets its own bucket so tests do not see each other's keys.
        var storage = new S3LakeStorage(new S3StorageOptions
        {
            ServiceUrl = url, Bucket = $"lake-test-{Guid.NewGuid():N}"[..40], AccessKey = "S3RVER", SecretKey = "S3RVER",
        }, scratch);
        await storage.EnsureBucketAsync();
        return storage;
    }

    [Fact]
    public async Task Objects_are_written_listed_read_and_deleted()
    {
        using var lake = new TestLake();
        using var storage = await StorageAsync(Path.Combine(lake.DataDirectory, ".lake-tmp"));

        await storage.PutBytesAsync("models/a/model.onnx", Encoding.UTF8.GetBytes("model"));
        await storage.PutBytesAsync("processed/vital_signs/date=2026-03-09/part-0.parquet", Encoding.UTF8.GetBytes("silver"));
        var scratch = Path.Combine(storage.ScratchDirectory, "f.tmp");
        File.WriteAllText(scratch, "features");
        await storage.PutFileAsync("features/offline/date=2026-03-09/part-000.parquet", scratch);

        var all = await storage.ListAsync("").Select(o => o.Key).ToListAsync();
        var processed = await storage.ListAsync("processed/").ToListAsync();
        Assert.Equal(["features/offline/date=2026-03-09/part-000.parquet", "models/a/model.onnx", "processed/vital_signs/date=2026-03-09/part-0.parquet"], all);
        Assert.Equal(6, processed.Single().Size);
        Assert.False(File.Exists(scratch));
        Assert.Equal("model", Encoding.UTF8.GetString((await storage.GetBytesAsync("models/a/model.onnx"))!));
        using (var lease = await storage.OpenLocalAsync("features/offline/date=2026-03-09/part-000.parquet"))
        {
            Assert.Equal("features", File.ReadAllText(lease!.Path));
        }

        await storage.DeleteAsync("models/a/model.onnx");
        Assert.Null(await storage.GetBytesAsync("models/a/model.onnx"));
        Assert.Null(await storage.OpenLocalAsync("models/none"));
        Assert.Equal(2, await storage.ListAsync("").CountAsync());
    }

    [Fact]
    public async Task Pipeline_on_S3_writes_the_same_layout_and_copies_sealed_bronze()
    {
        using var local = new TestLake();
        using var lake = new TestLake();
        using var storage = await StorageAsync(Path.Combine(lake.DataDirectory, ".lake-tmp"));
        using var remote = new TestLake.Rerun(lake, storage);
        var patient = NewPatientId();
        var at = new DateTimeOffset(2026, 3, 9, 8, 0, 0, TimeSpan.Zero);
        var messages = Enumerable.Range(0, 30).Select(i => AllVitals(patient, TestLake.Site, at.AddMinutes(20 * i))).ToList();
        lake.WriteBronze(TestLake.Now.AddDays(-1), messages.Select(m => m.DeepClone().AsObject()));
        local.WriteBronze(TestLake.Now.AddDays(-1), messages);

        var silver = await remote.RunAsync(BronzeToSilverJob.JobName);
        var features = await remote.RunAsync(OfflineFeaturesJob.JobName, new DateOnly(2026, 3, 9), new DateOnly(2026, 3, 9));
        await local.RunAsync(BronzeToSilverJob.JobName);
        await local.RunAsync(OfflineFeaturesJob.JobName, new DateOnly(2026, 3, 9), new DateOnly(2026, 3, 9));

        Assert.Equal(("succeeded", "succeeded"), (silver.Status, features.Status));
        Assert.Equal(1, silver.Details["bronze_files_copied"]);
        var keys = await storage.ListAsync("").Select(o => o.Key).ToListAsync();
        var localKeys = await local.Storage.ListAsync("").Select(o => o.Key).Where(k => !k.EndsWith(".db", StringComparison.Ordinal) && !k.Contains(".db-", StringComparison.Ordinal)).ToListAsync();
        Assert.Equal(localKeys, keys);
        Assert.Contains(keys, k => k.StartsWith("raw/vital_signs/date=2026-03-09/hour=12/", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(lake.DataDirectory, "*.parquet", SearchOption.AllDirectories));
        foreach (var key in keys.Where(k => k.EndsWith(".parquet", StringComparison.Ordinal)))
        {
            Assert.Equal(await local.Storage.GetBytesAsync(key), await storage.GetBytesAsync(key));
        }

        var rows = await new OfflineFeatureStore(storage).ReadAsync(new DateOnly(2026, 3, 9), new DateOnly(2026, 3, 9)).CountAsync();
        Assert.Equal(features.RowsOut, rows);
    }
}
