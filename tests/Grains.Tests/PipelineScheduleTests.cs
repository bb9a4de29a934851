using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Features;
using ClinicalTrials.Lake.Retention;
using ClinicalTrials.Lake.Silver;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The pipeline schedule: one reminder per job. Every silo of a cluster starts the scheduler at its own start, so
/// starting it again must leave registered reminders alone rather than push every job's next run back.
/// </summary>
public sealed class PipelineScheduleTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Starting_the_schedule_again_leaves_the_registered_reminders_as_they_are()
    {
        var scheduler = fixture.Cluster.Client.GetGrain<IPipelineSchedulerGrain>("default");

        await scheduler.StartAsync();
        var first = await RemindersAsync(scheduler);
        await scheduler.StartAsync();
        var second = await RemindersAsync(scheduler);

        Assert.Equal(
            [$"job:{BronzeToSilverJob.JobName}", $"job:{OfflineFeaturesJob.JobName}", $"job:{RetentionJob.JobName}"],
            first.Keys.Order(StringComparer.Ordinal));
        Assert.All(first.Values, r => Assert.Equal(new PipelineOptions().SchedulePeriod, r.Period));
        Assert.Equal(first, second);
    }

    private async Task<Dictionary<string, (DateTime StartAt, TimeSpan Period, string? ETag)>> RemindersAsync(IPipelineSchedulerGrain scheduler)
    {
        var rows = await fixture.Cluster.Reminders.ReadRows(scheduler.GetGrainId());
        return rows.Reminders.ToDictionary(r => r.ReminderName, r => (r.StartAt, r.Period, r.ETag));
    }
}
