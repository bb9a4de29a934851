using System.Diagnostics.Metrics;
using System.Reflection;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClinicalTrials.Grains.Tests;

/// <summary>The model host's poll of the registry: the loop every silo runs beside its grains.</summary>
public sealed class ModelHostTests
{
    [Fact]
    public async Task A_registry_call_that_Orleans_cancels_fails_one_poll_and_not_the_silo()
    {
        using var data = new DataDirectory();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var host = new ModelHost(
            new ModelStore(new LakeContext(data.Path, new LocalLakeStorage(data.Path), new PipelineOptions(), TimeProvider.System)),
            DispatchProxy.Create<IGrainFactory, CancellingRegistry>(),
            new ClinicalMetrics(services.GetRequiredService<IMeterFactory>()),
            NullLogger<ModelHost>.Instance);

        // Thrown out of the host's loop, the cancellation stopped the silo (BackgroundServiceExceptionBehavior.StopHost).
        await host.RefreshAsync();

        Assert.Null(host.CurrentVersion);
    }

    /// <summary>
    /// A grain factory whose model registry cancels every call, as Orleans cancels a call whose grain directory range
    /// moves while another silo dies.
    /// </summary>
    public class CancellingRegistry : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IGrainFactory.GetGrain) when targetMethod.ReturnType == typeof(IModelRegistryGrain) =>
                Create<IModelRegistryGrain, CancellingRegistry>(),
            nameof(IModelRegistryGrain.GetProductionAsync) => Task.FromException<ModelVersionInfo?>(new OperationCanceledException()),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
