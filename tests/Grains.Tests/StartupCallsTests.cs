using ClinicalTrials.Grains.Cluster;

namespace ClinicalTrials.Grains.Tests;

/// <summary>A silo's start-up grain call outlasts a silo not yet declared dead, and nothing else.</summary>
public sealed class StartupCallsTests
{
    private static readonly TimeSpan NoPause = TimeSpan.Zero;

    [Fact]
    public async Task A_call_refused_because_a_silo_is_unavailable_is_made_again_until_it_succeeds()
    {
        var calls = 0;

        await StartupCalls.RunAsync(() => ++calls < 3 ? throw new SiloUnavailableException() : Task.CompletedTask,
            NoPause, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);

        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Any_other_failure_stops_the_start_at_the_first_call()
    {
        var calls = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => StartupCalls.RunAsync(() =>
        {
            calls++;
            throw new InvalidOperationException("a broken grain");
        }, NoPause, TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Once_its_patience_is_spent_the_unavailable_silo_stops_the_start()
    {
        var calls = 0;

        await Assert.ThrowsAsync<SiloUnavailableException>(() => StartupCalls.RunAsync(() =>
        {
            calls++;
            throw new SiloUnavailableException();
        }, NoPause, TimeSpan.Zero, TestContext.Current.CancellationToken));

        Assert.Equal(1, calls);
    }
}
