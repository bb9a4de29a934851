using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The pipeline schedule in a cluster: one reminder per job in the cluster database, fired by whichever silo owns it.
/// The job's runs are recorded in the same database, so they can be counted across silos.
/// </summary>
public sealed class ClusterScheduleTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1); // the shortest period the schedule accepts

    [Fact(Skip = "Open defect (issue 12): the restarted silo does not always rejoin in time. Of 3 fresh-clone runs on 2026-12-01, one restarted silo stopped answering (connection refused) just after the other was killed; of 4 runs on 2026-12-02 at load average 40-60, two restarted silos did not answer healthy within 60 s. Runs alone with its filter; to be found before it runs in CI again.")]
    public async Task The_scheduled_job_runs_once_per_period_cluster_wide_also_after_the_silo_that_ran_it_dies()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await PostgresCluster.StartAsync(silos: 2, settings: $"--Pipeline:SchedulePeriod={Period}");

        await RunsAsync(cluster.Silos[1], atLeast: 1);
        cluster.Silos[0].Kill();
        // With one silo left, that silo owns every reminder: the run after the death is its.
        var beforeRejoin = await RunsAsync(cluster.Silos[1], atLeast: 2);
        cluster.Silos[0] = await cluster.Silos[0].RestartAsync(ct);
        cluster.Silos[1].Kill();
        var runs = await RunsAsync(cluster.Silos[0], atLeast: beforeRejoin.Count + 1);

        // Reminder ticks fall on the registration time plus whole periods, whichever silo fires them: two runs of one
        // period would start moments apart.
        var gaps = runs.Zip(runs.Skip(1), (earlier, later) => later - earlier).ToList();
        Assert.True(gaps.All(gap => gap > Period / 2), $"Runs started at {string.Join(", ", runs.Select(r => r.ToString("HH:mm:ss.fff")))}");
    }

    /// <summary>Waits until the bronze-to-silver job has run at least <paramref name="atLeast"/> times; their start times, in order.</summary>
    private static async Task<List<DateTimeOffset>> RunsAsync(SiloProcess silo, int atLeast)
    {
        using var http = silo.CreateClient();
        return await Eventually.UntilAsync(async () =>
        {
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync("/api/pipeline/jobs", TestContext.Current.CancellationToken);
            }
            catch (HttpRequestException e)
            {
                Assert.Fail($"The silo that should run the schedule does not answer ({e.Message}); its last output:\n{silo.Output}");
                throw;
            }

            using var answered = response;
            if (!response.IsSuccessStatusCode)
            {
                return null; // a silo that is joining or whose partner just died
            }

            var jobs = await response.ReadJsonAsync();
            var starts = jobs.GetProperty("jobs").EnumerateArray()
                .Single(j => j.GetProperty("name").GetString() == "bronze-to-silver").GetProperty("runs").EnumerateArray()
                .Select(r => r.GetProperty("started_at").GetDateTimeOffset()).Order().ToList();
            return starts.Count >= atLeast ? starts : null;
        }, 3 * Period + TimeSpan.FromSeconds(30), $"{atLeast} scheduled runs of bronze-to-silver");
    }
}
