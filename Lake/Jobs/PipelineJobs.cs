using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Retention;
using ClinicalTrials.Lake.Silver;

namespace ClinicalTrials.Lake.Jobs;

/// <summary>
/// The pipeline's jobs by name, and the one way to run them: every run is recorded in <c>lake.db</c> (start, end,
/// rows in and out, status, the job's counts) whether it is started by the schedule, the API or the CLI. This class
/// does not stop two processes running the same job at once; in the cluster the job grain (one per job name) does.
/// </summary>
public sealed class PipelineJobs
{
    private readonly LakeContext _lake;
    private readonly Dictionary<string, ILakeJob> _jobs;

    public PipelineJobs(LakeContext lake)
    {
        _lake = lake;
        _jobs = new ILakeJob[] { new BronzeToSilverJob(lake), new OfflineFeaturesJob(lake), new RetentionJob(lake) }
            .ToDictionary(j => j.Name, StringComparer.Ordinal);
    }

    /// <summary>The job names: <c>bronze-to-silver</c>, <c>offline-features</c>, <c>retention</c>.</summary>
    public IReadOnlyList<string> Names => [.. _jobs.Keys];

    public LakeContext Lake => _lake;

    public bool Exists(string name) => _jobs.ContainsKey(name);

    /// <summary>Runs the job to its end and returns its record (a failed run is recorded and returned, not thrown).</summary>
    /// <exception cref="KeyNotFoundException">No job has that name.</exception>
    public async Task<JobRunRecord> RunAsync(string name, JobArguments arguments, CancellationToken cancellationToken = default)
    {
        var job = _jobs.TryGetValue(name, out var found) ? found : throw new KeyNotFoundException($"No pipeline job is named '{name}'; jobs: {string.Join(", ", Names)}.");
        var startedAt = _lake.Clock.GetUtcNow();
        var id = _lake.State.StartRun(name, startedAt);
        JobRunRecord record;
        try
        {
            var outcome = await Task.Run(() => job.RunAsync(arguments, cancellationToken), cancellationToken);
            record = new JobRunRecord(id, name, startedAt, _lake.Clock.GetUtcNow(), "succeeded", outcome.RowsIn, outcome.RowsOut,
                new Dictionary<string, long>(outcome.Details), null);
        }
        catch (Exception e)
        {
            record = new JobRunRecord(id, name, startedAt, _lake.Clock.GetUtcNow(), "failed", 0, 0, new Dictionary<string, long>(),
                $"{e.GetType().Name}: {e.Message}");
        }

        _lake.State.EndRun(record);
        return record;
    }

    /// <summary>The latest runs, newest first (of one job, or of all).</summary>
    public IReadOnlyList<JobRunRecord> Runs(string? name = null, int limit = 50) => _lake.State.Runs(name, limit);
}
