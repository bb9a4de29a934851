using System.Text;
using ClinicalTrials.Grains.Hosting;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Journal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// One in-process silo wired as the real host wires it (<see cref="ClinicalGrainsExtensions.AddClinicalGrains"/>), over
/// a data directory that outlives it, so a test can stop the silo and start another on the same journal.
/// </summary>
internal sealed class ClinicalCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private ClinicalCluster(InProcessTestCluster cluster) => _cluster = cluster;

    /// <param name="dataDirectory">The silo's data directory.</param>
    /// <param name="services">Further silo services or options (e.g. another lake storage).</param>
    public static async Task<ClinicalCluster> StartAsync(string dataDirectory, Action<IServiceCollection>? services = null)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.Configure<JournalOptions>(o => o.DataDirectory = dataDirectory);
            services?.Invoke(host.Services);
        });
        builder.ConfigureSilo((_, silo) => silo.AddEmbeddedStorage().AddClinicalGrains());
        builder.ConfigureClient(client => client.Services.AddClinicalSerialization());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ClinicalCluster(cluster);
    }

    public IClusterClient Client => _cluster.Client;

    public IngestJournal Journal => _cluster.Silos[0].ServiceProvider.GetRequiredService<IngestJournal>();

    /// <summary>The silo's reminder table, to see what reminders are registered and when they start.</summary>
    public IReminderTable Reminders => _cluster.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();

    /// <summary>The serializer the silo's grain storage uses, to read and write snapshots as it does.</summary>
    public Serializer Serializer => _cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();

    /// <summary>Ingests the bodies as one request would (one batch), through the silo's ingest path.</summary>
    public Task<IReadOnlyList<IngestResult>> IngestAsync(DateTimeOffset receivedAt, params string[] bodies) =>
        _cluster.Silos[0].ServiceProvider.GetRequiredService<ClinicalIngest>().IngestAsync(
            bodies.Select(b => ReceivedMessage.Parse(Encoding.UTF8.GetBytes(b), receivedAt)).ToList(), receivedAt);

    public Task<IReadOnlyList<IngestResult>> IngestAsync(params string[] bodies) => IngestAsync(DateTimeOffset.UtcNow, bodies);

    /// <summary>Deactivates the grain's activation and waits until it is gone (its deactivation hooks have run).</summary>
    public Task DeactivateAsync(IAddressable grain) => _cluster.DeactivateAsync(grain);

    /// <summary>Stops the silo gracefully: grains deactivate, then the journal finishes its queue and closes.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        // Pooled connections would keep the old database files open for the next silo on the same directory.
        SqliteConnection.ClearAllPools();
    }
}

/// <summary>One cluster shared by the tests of a class; each test uses its own patients and sites.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly DataDirectory _data = new();
    private ClinicalCluster? _cluster;

    internal ClinicalCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    internal string DataPath => _data.Path;

    public async ValueTask InitializeAsync() => _cluster = await ClinicalCluster.StartAsync(_data.Path);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        _data.Dispose();
    }
}
