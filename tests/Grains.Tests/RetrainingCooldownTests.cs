using ClinicalTrials.Grains.Retraining;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ClinicalTrials.Grains.Tests;

/// <summary>When a monitoring alert may start a retraining (<see cref="RetrainingCooldown"/>), on a clock the test moves.</summary>
public sealed class RetrainingCooldownTests
{
    private static readonly DateTimeOffset Started = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);

    private static (RetrainingCooldown Cooldown, FakeTimeProvider Clock) At(DateTimeOffset now, TimeSpan? cooldown = null)
    {
        var options = new RetrainingOptions();
        if (cooldown is { } configured)
        {
            options.Cooldown = configured;
        }

        var clock = new FakeTimeProvider(now);
        return (new RetrainingCooldown(Options.Create(options), clock), clock);
    }

    [Fact]
    public void Before_any_retraining_an_alert_may_start_one()
    {
        Assert.Null(At(Started).Cooldown.BlockedUntil(null));
    }

    [Fact]
    public void Within_24_hours_of_the_last_start_an_alert_is_held_back_until_they_have_passed()
    {
        var (cooldown, clock) = At(Started);

        Assert.Equal(Started.AddHours(24), cooldown.BlockedUntil(Started));
        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromTicks(1));
        Assert.Equal(Started.AddHours(24), cooldown.BlockedUntil(Started));
        clock.Advance(TimeSpan.FromTicks(1));
        Assert.Null(cooldown.BlockedUntil(Started));
    }

    [Fact]
    public void The_configured_cooldown_applies_and_zero_holds_nothing_back()
    {
        var (cooldown, clock) = At(Started, TimeSpan.FromHours(6));
        clock.Advance(TimeSpan.FromHours(5));
        Assert.Equal(Started.AddHours(6), cooldown.BlockedUntil(Started));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Null(cooldown.BlockedUntil(Started));

        Assert.Null(At(Started, TimeSpan.Zero).Cooldown.BlockedUntil(Started));
    }
}
