using ClinicalTrials.Grains.Interfaces;
using Orleans.Concurrency;

namespace ClinicalTrials.Grains.Health;

/// <summary>Activated on the silo that calls it (a stateless worker), with no state to load: it answers or the silo cannot.</summary>
[StatelessWorker]
public sealed class HealthProbeGrain : Grain, IHealthProbeGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
