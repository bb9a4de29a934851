using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// What crosses a grain boundary around the pipeline jobs: the run record as a contract type, and the failures the API
/// turns into 503. The class has its own silo and data directory, so the job sees only this class's messages.
/// </summary>
public sealed class JobGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClinicalCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task A_job_run_reaches_a_grain_client_with_its_counts()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        await _cluster.IngestAsync(
            Vitals(patient, site, DateTimeOffset.UtcNow.AddMinutes(-20), 80).ToJsonString(),
            Vitals(patient, site, DateTimeOffset.UtcNow.AddMinutes(-10), 84).ToJsonString());

        // The test cluster's client reaches the silo through a gateway connection, so the answer is serialized.
        var run = await _cluster.Client.GetGrain<IJobGrain>("bronze-to-silver").RunAsync(null, null);

        Assert.Equal("bronze-to-silver", run.Job);
        Assert.Equal("succeeded", run.Status);
        Assert.Null(run.Error);
        Assert.Equal(2, run.RowsIn);
        Assert.Equal(2, run.RowsOut);
        Assert.True(run.EndedAt >= run.StartedAt);
        Assert.Equal(1, run.Details["silver_files_written"]);
    }

    [Fact]
    public async Task An_unreachable_lake_storage_reaches_a_grain_client_as_itself()
    {
        using var data = new DataDirectory();
        await using var cluster = await ClinicalCluster.StartAsync(data.Path, services => services.Configure<StorageOptions>(o =>
        {
            o.Provider = StorageProvider.S3;
            o.S3 = new S3StorageOptions { ServiceUrl = "http://127.0.0.1:1", Bucket = "lake", AccessKey = "key", SecretKey = "secret" };
        }));

        var registry = cluster.Client.GetGrain<IModelRegistryGrain>("adverse-event-24h");

        // The API answers this exception with 503; in a cluster it comes from another silo, so it must keep its type.
        var failure = await Assert.ThrowsAsync<LakeStorageUnavailableException>(() => registry.ListAsync());
        Assert.Contains("127.0.0.1:1", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unavailable_storage_crosses_silos_as_itself_so_the_api_can_answer_503()
    {
        var serializer = _cluster.Serializer;
        var lake = Thrown(new LakeStorageUnavailableException("s3 http://127.0.0.1:1/clinical-lake", new HttpRequestException("Connection refused")));
        var journal = Thrown(new JournalUnavailableException("The journal cannot commit: disk full.", new IOException("No space left on device")));

        var lakeCopy = Assert.IsType<LakeStorageUnavailableException>(serializer.Deserialize<Exception>(serializer.SerializeToArray(lake)));
        var journalCopy = Assert.IsType<JournalUnavailableException>(serializer.Deserialize<Exception>(serializer.SerializeToArray(journal)));

        Assert.Equal(lake.Message, lakeCopy.Message);
        Assert.IsType<HttpRequestException>(lakeCopy.InnerException);
        Assert.Equal(journal.Message, journalCopy.Message);
    }

    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
