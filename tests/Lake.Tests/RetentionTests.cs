using ClinicalTrials.Lake.Retention;

namespace ClinicalTrials.Lake.Tests;

public sealed class RetentionTests
{
    private static void Touch(TestLake lake, string key)
    {
        var path = Path.Combine(lake.DataDirectory, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "x\n");
    }

    [Fact]
    public async Task Old_partitions_are_deleted_by_each_layers_retention()
    {
        using var lake = new TestLake(new PipelineOptions { Retention = { BronzeDays = 90, SilverDays = 730, FeatureDays = 730, AuditDays = 2557 } });
        var today = DateOnly.FromDateTime(TestLake.Now.UtcDateTime);
        string Day(int daysAgo) => LakeLayout.DatePartition(today.AddDays(-daysAgo));
        string[] kept =
        [
            $"raw/vital_signs/{Day(89)}/hour=10/part-a.ndjson", $"processed/vital_signs/{Day(91)}/part-0.parquet",
            $"processed/vital_signs/{Day(729)}/part-0.parquet", $"features/offline/{Day(91)}/part-000.parquet",
            $"quarantine/{Day(2000)}/hour=01/part-a.ndjson",
        ];
        string[] deleted =
        [
            $"raw/vital_signs/{Day(91)}/hour=10/part-a.ndjson", $"raw/lab_results/{Day(400)}/hour=00/part-b.ndjson",
            $"processed/lab_results/{Day(731)}/part-0.parquet", $"features/offline/{Day(800)}/part-000.parquet",
            $"quarantine/{Day(2600)}/hour=01/part-a.ndjson",
        ];
        foreach (var key in kept.Concat(deleted))
        {
            Touch(lake, key);
        }

        var run = await lake.RunAsync(RetentionJob.JobName);

        Assert.Equal("succeeded", run.Status);
        Assert.All(kept, key => Assert.True(File.Exists(Path.Combine(lake.DataDirectory, key)), key));
        Assert.All(deleted, key => Assert.False(File.Exists(Path.Combine(lake.DataDirectory, key)), key));
        Assert.Equal(2, run.Details["deleted.bronze"]);
        Assert.Equal(1, run.Details["deleted.silver"]);
        Assert.Equal(1, run.Details["deleted.features"]);
        Assert.Equal(1, run.Details["deleted.audit"]);
        Assert.False(Directory.Exists(Path.Combine(lake.DataDirectory, "raw", "lab_results")));
    }
}
