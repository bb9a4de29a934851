namespace ClinicalTrials.Grains.Retraining;

/// <summary>When the retraining grain last started a retraining, for the alerts' cooldown (<see cref="RetrainingCooldown"/>).</summary>
[GenerateSerializer, Alias("retraining-state")]
public sealed class RetrainingState
{
    [Id(0)]
    public DateTimeOffset? LastStartedAt { get; set; }
}
