using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// Whether a monitoring alert may start a retraining: not within <see cref="RetrainingOptions.Cooldown"/> after the last
/// retraining started, whatever started it and whatever came of it, so that an alert that persists does not retrain at
/// every monitoring run. Retrainings by hand and by the schedule do not ask.
/// </summary>
public sealed class RetrainingCooldown(IOptions<RetrainingOptions> options, TimeProvider clock)
{
    /// <summary>When an alert may start a retraining again after one started at <paramref name="lastStarted"/>; null when it may now.</summary>
    public DateTimeOffset? BlockedUntil(DateTimeOffset? lastStarted) =>
        lastStarted + options.Value.Cooldown is { } until && clock.GetUtcNow() < until ? until : null;
}
