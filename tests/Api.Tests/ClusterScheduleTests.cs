using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The pipeline schedule in a cluster: one reminder per job in the cluster database, fired by whichever silo owns it.
/// The job's runs are recorded in the same database, so they can be counted across silos.
/// </summary>
public sealed class ClusterScheduleTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1); // the shortest period the schedule accepts

    [Fact]
    public async Task The_scheduled_job_runs_once_per_period_cluster_wide_also_after_the_silo_that_ran_it_dies()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await PostgresCluster.StartAsync(silos: 2, settings: $"--Pipeline:SchedulePeriod={Period}");

        await RunsAsync(cluster.Silos[1], after: DateTimeOffset.MinValue);
        var firstDeath = DateTimeOffset.UtcNow;
        cluster.Silos[0].Kill();
        // With one silo left, that silo owns every reminder: the runs after the death are its.
        await RunsAsync(cluster.Silos[1], after: firstDeath);
        cluster.Silos[0] = await cluster.Silos[0].RestartAsync(ct);
        var secondDeath = DateTimeOffset.UtcNow;
        cluster.Silos[1].Kill();
        // The silo that ran the schedule is gone: the silo that came back must take it over.
        var runs = await RunsAsync(cluster.Silos[0], after: secondDeath);

        // Reminder ticks fall on the registration time plus whole periods, whichever silo fires them: two runs of one
        // period would start moments apart.
        var gaps = runs.Zip(runs.Skip(1), (earlier, later) => later - earlier).ToList();
        Assert.True(gaps.All(gap => gap > Period / 2), $"Runs started at {string.Join(", ", runs.Select(r => r.ToString("HH:mm:ss.fff")))}");
    }

    /// <summary>
    /// Waits until the bronze-to-silver job has a run that started after <paramref name="after"/>; the start times of
    /// all its runs, in order.
    /// </summary>
    private static async Task<List<DateTimeOffset>> RunsAsync(SiloProcess silo, DateTimeOffset after)
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
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                return null; // a request that waited on the dead partner until its death was declared
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
            return starts.Any(start => start > after) ? starts : null;
        }, 3 * Period + TimeSpan.FromSeconds(30), $"a run of bronze-to-silver started after {after:HH:mm:ss.fff}");
    }
}
