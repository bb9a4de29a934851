using ClinicalTrials.Api.Security;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// Silo processes in the cluster profile (docs/cluster.md) on a database of their own, migrated by the silo's own
/// <c>migrate</c> command. The silos of one fixture form one cluster.
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private readonly TestPostgres _database;
    private readonly List<DataDirectory> _data = [];
    private readonly DataDirectory _secrets = new();
    private readonly string _clusterId = $"test-{Guid.NewGuid():N}";

    private readonly string[] _settings;

    private PostgresCluster(TestPostgres database, string connectionString, string[] settings)
    {
        _database = database;
        ConnectionString = connectionString;
        _settings = settings;
        // The cluster profile is given the key its silos sign the audit checkpoints with; made here as the embedded default makes its own.
        AuditCheckpointKey.Open(new AuditOptions(), _secrets.Path, cluster: false);
    }

    /// <summary>What the silos connect to: the database itself, or a proxy in front of it.</summary>
    public string ConnectionString { get; }

    public List<SiloProcess> Silos { get; } = [];

    /// <param name="silos">How many silos to start.</param>
    /// <param name="connectTo">Rewrites the database's connection string for the silos (e.g. through a proxy).</param>
    /// <param name="settings">Further settings of every silo (<c>--Pipeline:SchedulePeriod=00:01:00</c>).</param>
    public static async Task<PostgresCluster> StartAsync(int silos, Func<string, string>? connectTo = null, params string[] settings)
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var cluster = new PostgresCluster(database, connectTo?.Invoke(database.ConnectionString) ?? database.ConnectionString, settings);
        var ct = TestContext.Current.CancellationToken;
        var (exitCode, output) = await SiloProcess.RunToExitAsync(ct, "migrate", $"--ConnectionStrings:Postgres={database.ConnectionString}");
        Assert.True(exitCode == 0, $"migrate failed:\n{output}");

        // The first silo creates the cluster; the others join it one at a time (as a rolling deployment does).
        for (var i = 0; i < silos; i++)
        {
            var data = new DataDirectory();
            cluster._data.Add(data);
            cluster.Silos.Add(await SiloProcess.StartAsync(data.Path, ct, cluster.Settings()));
        }

        return cluster;
    }

    /// <summary>The command-line settings of a silo of this cluster.</summary>
    public string[] Settings() =>
    [
        "--Cluster:Mode=Postgres",
        $"--Cluster:ClusterId={_clusterId}",
        $"--ConnectionStrings:Postgres={ConnectionString}",
        "--Orleans:AdvertisedAddress=127.0.0.1",
        $"--{AuditCheckpointKey.Setting}={Path.Combine(_secrets.Path, AuditCheckpointKey.FileName)}",
        .. _settings,
    ];

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }

        foreach (var data in _data)
        {
            data.Dispose();
        }

        _secrets.Dispose();

        await _database.DisposeAsync();
    }
}
