using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The lake in the cluster profile (docs/cluster.md): bronze is the shared journal's rows, and the jobs' progress and
/// runs are in the cluster database. Bronze-to-silver run on one silo writes each sealed hour out as a bronze file,
/// reads it into silver and copies it to the lake storage's <c>raw/…</c>; run on another silo (an empty data directory)
/// it finds nothing left to do. Each silo here is a data directory of its own with a journal of its own. Each test has a
/// database of its own: the journal's export mark is one for the whole cluster.
/// </summary>
public sealed class ClusterLakeTests : IAsyncDisposable
{
    private readonly DataDirectory _scratch = new();
    private readonly string _site = NewSiteId();

    private readonly MigratedPostgres _database = new();

    public async ValueTask DisposeAsync()
    {
        await _database.DisposeAsync();
        _scratch.Dispose();
    }

    [Fact]
    public async Task Sealed_hours_of_the_shared_journal_reach_silver_and_the_lake_storage_once_whichever_silo_runs_the_job()
    {
        var postgres = await _database.DatabaseAsync();
        await using var journalA = Journal(postgres);
        var now = DateTimeOffset.UtcNow;
        var threeHoursAgo = Enumerable.Range(0, 3).Select(_ => Entry(now.AddHours(-3))).ToArray();
        var twoHoursAgo = Enumerable.Range(0, 2).Select(_ => Entry(now.AddHours(-2))).ToArray();
        var unsealed = Entry(now);
        await journalA.AppendAsync([.. threeHoursAgo, unsealed, .. twoHoursAgo]);

        var siloA = await RunBronzeToSilverAsync(postgres, journalA, "silo-a");

        Assert.Equal("succeeded", siloA.Status);
        Assert.Equal(5, siloA.RowsOut);
        Assert.Equal(2, siloA.Details["bronze_files_written_from_journal"]);
        Assert.Equal(2, siloA.Details["bronze_files_copied"]);
        foreach (var hour in new[] { threeHoursAgo, twoHoursAgo })
        {
            // The layout of the embedded profile's bronze, lines in the order the journal stored them.
            var copy = Path.Combine(_scratch.Path, "bucket", $"{hour[0].Partition}/part-0.ndjson");
            Assert.Equal(hour.SelectMany(e => e.Line), await File.ReadAllBytesAsync(copy, TestContext.Current.CancellationToken));
        }

        Assert.False(Directory.Exists(Path.Combine(_scratch.Path, "bucket", unsealed.Partition)), "An hour still being written was exported.");

        await using var journalB = Journal(postgres);
        var siloB = await RunBronzeToSilverAsync(postgres, journalB, "silo-b");

        Assert.Equal(("succeeded", 0L, 0L), (siloB.Status, siloB.RowsIn, siloB.RowsOut));
        Assert.False(siloB.Details.ContainsKey("bronze_files_written_from_journal"));
        Assert.Equal([siloB.Id, siloA.Id], new PostgresLakeState(postgres.DataSource).Runs(BronzeToSilverJob.JobName, 10).Select(r => r.Id));
    }

    [Fact]
    public async Task An_hour_read_into_silver_but_not_copied_when_its_silo_stopped_is_copied_by_the_next_run_on_another_silo()
    {
        var postgres = await _database.DatabaseAsync();
        await using var journal = Journal(postgres);
        var hour = Enumerable.Range(0, 3).Select(_ => Entry(DateTimeOffset.UtcNow.AddDays(-2))).ToArray();
        await journal.AppendAsync(hour);

        var stopped = await RunBronzeToSilverAsync(postgres, journal, "silo-stopped", copies: false);
        Assert.Equal("failed", stopped.Status);
        var copy = Path.Combine(_scratch.Path, "bucket", $"{hour[0].Partition}/part-0.ndjson");
        Assert.False(File.Exists(copy));

        var next = await RunBronzeToSilverAsync(postgres, journal, "silo-next");

        Assert.Equal("succeeded", next.Status);
        Assert.Equal(hour.SelectMany(e => e.Line), await File.ReadAllBytesAsync(copy, TestContext.Current.CancellationToken));
        Assert.Equal(0, next.RowsOut); // its rows were in silver already: read once, never twice
        var again = await RunBronzeToSilverAsync(postgres, journal, "silo-next");
        Assert.False(again.Details.ContainsKey("bronze_files_written_from_journal"));
    }

    private static PostgresJournal Journal(TestPostgres postgres) =>
        new(postgres.DataSource, $"silo-{Guid.NewGuid():N}", maxEntriesPerCommit: 256, NullLogger<PostgresJournal>.Instance);

    private JournalEntry Entry(DateTimeOffset receivedAt)
    {
        var (patient, id, at) = (NewPatientId(), Guid.NewGuid(), receivedAt.AddMinutes(-1));
        var raw = Encoding.UTF8.GetBytes(Vitals(patient, _site, at, 72, id).ToJsonString());
        return new JournalEntry(id, receivedAt, patient, _site, PayloadType.VitalSigns, at, raw, [], 0);
    }

    /// <summary>One silo's run: its own data directory, the shared bucket, the cluster database's lake state.</summary>
    private async Task<JobRunRecord> RunBronzeToSilverAsync(TestPostgres postgres, IJournalBronze journal, string silo, bool copies = true)
    {
        var dataDirectory = Path.Combine(_scratch.Path, silo);
        var bucket = new LocalLakeStorage(Path.Combine(_scratch.Path, "bucket"));
        var lake = new LakeContext(dataDirectory, copies ? bucket : new CopiesRefused(bucket), new PipelineOptions(),
            TimeProvider.System, new PostgresLakeState(postgres.DataSource), journal);
        return await new PipelineJobs(lake).RunAsync(BronzeToSilverJob.JobName, JobArguments.Incremental, TestContext.Current.CancellationToken);
    }

    /// <summary>A bucket that stops answering as the run copies bronze: its silo stopped before the copy.</summary>
    private sealed class CopiesRefused(ILakeStorage bucket) : ILakeStorage
    {
        public string Description => bucket.Description;

        public string ScratchDirectory => bucket.ScratchDirectory;

        public Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default) =>
            bucket.PutFileAsync(key, sourcePath, cancellationToken);

        public Task PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
            bucket.PutBytesAsync(key, content, cancellationToken);

        public Task CopyFromAsync(string key, string sourcePath, CancellationToken cancellationToken = default) =>
            throw new LakeStorageUnavailableException(Description, new IOException("stopped"));

        public Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default) => bucket.GetBytesAsync(key, cancellationToken);

        public Task<LocalFileLease?> OpenLocalAsync(string key, CancellationToken cancellationToken = default) =>
            bucket.OpenLocalAsync(key, cancellationToken);

        public IAsyncEnumerable<LakeObject> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            bucket.ListAsync(prefix, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => bucket.DeleteAsync(key, cancellationToken);
    }
}
