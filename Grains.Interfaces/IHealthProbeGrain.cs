namespace ClinicalTrials.Grains.Interfaces;

/// <summary>A grain with nothing to do but answer, so that readiness proves this silo runs grain calls.</summary>
[Alias("health-probe")]
public interface IHealthProbeGrain : IGrainWithIntegerKey
{
    [Alias("ping")]
    Task PingAsync();
}
