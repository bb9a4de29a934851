using System.Net;
using System.Net.Sockets;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Silver;
using Npgsql;
using Orleans.Configuration;

namespace ClinicalTrials.Silo.Hosting;

public enum ClusterMode
{
    /// <summary>One silo on localhost; journal, grain state and reminders under the data directory. No server needed.</summary>
    Embedded,

    /// <summary>Several silos sharing one PostgreSQL database for membership, grain state, reminders and the journal.</summary>
    Postgres,
}

/// <summary>Which profile the silo runs (docs/cluster.md): <c>Cluster:Mode</c>, and in a cluster its names.</summary>
public sealed class ClusterProfileOptions
{
    public const string Section = "Cluster";

    public ClusterMode Mode { get; set; } = ClusterMode.Embedded;

    /// <summary>The cluster's name: silos with the same one (and the same database) form one cluster.</summary>
    public string ClusterId { get; set; } = "clinicaltrials";

    /// <summary>The service's name: grain state and reminders belong to it, across redeployments of the cluster.</summary>
    public string ServiceId { get; set; } = "clinicaltrials";

    /// <summary>
    /// How long a silo told to stop (SIGTERM) goes on answering after its <c>/health/ready</c> turned 503, so a load
    /// balancer moves new requests and keep-alive connections to other silos before this one stops listening
    /// (<see cref="Api.Health.ShutdownDrain"/>). Unset: <see cref="DefaultClusterDrain"/> in a cluster, none embedded
    /// (one silo has nowhere to send its clients). It counts into the host's shutdown timeout, which must be longer.
    /// </summary>
    public TimeSpan? ShutdownDrain { get; set; }

    /// <summary>
    /// The cluster's drain: longer than a load balancer or Kubernetes takes to stop routing to a silo that turned
    /// unready or is being deleted (a few seconds), far below the host's 30 s shutdown timeout.
    /// </summary>
    public static readonly TimeSpan DefaultClusterDrain = TimeSpan.FromSeconds(5);

    /// <summary>The drain this silo applies: <see cref="ShutdownDrain"/>, or its profile's default.</summary>
    public TimeSpan Drain => ShutdownDrain ?? (Mode == ClusterMode.Postgres ? DefaultClusterDrain : TimeSpan.Zero);

    public static ClusterProfileOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<ClusterProfileOptions>() ?? new ClusterProfileOptions();
}

/// <summary>The cluster profile's wiring: Orleans' ADO.NET providers and the PostgreSQL journal, on one database.</summary>
public static class ClusterProfile
{
    private const string Invariant = "Npgsql";

    /// <summary>
    /// Connections one silo opens at most: for Orleans' providers (membership, grain state, reminders) and for the
    /// journal (one writer, the rest for replays and look-ups). Size PostgreSQL's max_connections for
    /// silos × (both + the prediction log's), or put PgBouncer in front.
    /// </summary>
    public const int OrleansPoolSize = 16;

    /// <inheritdoc cref="OrleansPoolSize"/>
    public const int JournalPoolSize = 8;

    /// <summary>The cluster database, from <c>ConnectionStrings:Postgres</c>; a clear error when it is not set.</summary>
    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } connectionString
            ? connectionString
            : throw new ClusterSchemaException("Cluster:Mode is Postgres, but ConnectionStrings:Postgres is not set.");

    /// <summary>
    /// Joins the cluster through the membership table, keeps grain state and reminders in the database, and journals
    /// into it. The schema must have been applied (<c>migrate</c>); <see cref="CheckBeforeStartAsync"/> says so at start.
    /// </summary>
    public static void UsePostgresCluster(this ISiloBuilder silo, ClusterProfileOptions cluster, SiloOptions endpoints, string connectionString)
    {
        // Each provider call opens a pooled connection; without a bound, a burst of grain activations on every silo
        // would ask for more connections than PostgreSQL allows (100 by default) and fail activations.
        var orleansConnections = WithPoolSize(connectionString, OrleansPoolSize);
        var advertised = endpoints.AdvertisedAddress is { Length: > 0 } address ? IPAddress.Parse(address) : FirstHostAddress();
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        silo.ConfigureEndpoints(advertised, endpoints.SiloPort, endpoints.GatewayPort, listenOnAnyHostAddress: true);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = orleansConnections;
        });
        silo.AddAdoNetGrainStorage(StorageNames.Clinical, o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = orleansConnections;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = orleansConnections;
        });

        // Orleans' default grain directory is eventually consistent: while a silo leaves, a grain can briefly have two
        // activations, each applying only the messages sent to it, and a snapshot then records a journal position past
        // messages its state lacks. The strongly consistent directory never hands out a second activation.
#pragma warning disable ORLEANSEXP003 // experimental in Orleans 10; ClusterTests hold it to no lost state across restarts
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003

        // The writer's name is this silo's endpoint: stable across its restarts, and no two live silos share one.
        var writer = $"{advertised}:{endpoints.SiloPort}";
        // The journal runs the same few statements per commit: prepared once per connection, PostgreSQL no longer parses
        // and plans them every time (docs/benchmarks.md).
        silo.Services.AddSingleton(_ => NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(WithPoolSize(connectionString, JournalPoolSize)) { MaxAutoPrepare = 32 }.ConnectionString));
        silo.Services.AddSingleton<IIngestJournal>(services => new PostgresJournal(
            services.GetRequiredService<NpgsqlDataSource>(),
            writer,
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JournalOptions>>().Value.MaxEntriesPerCommit,
            services.GetRequiredService<ILogger<PostgresJournal>>(),
            services.GetRequiredService<ClinicalMetrics>()));
        // The lake jobs read the journal's rows as bronze and keep their progress and runs in the same database.
        silo.Services.AddSingleton<IJournalBronze>(services => (PostgresJournal)services.GetRequiredService<IIngestJournal>());
        silo.Services.AddSingleton<ILakeState>(services => new PostgresLakeState(services.GetRequiredService<NpgsqlDataSource>()));
    }

    /// <summary>
    /// In the cluster profile, connects to the cluster database and checks its schema. Returns one line saying what is
    /// wrong (an unknown mode, no connection string, an unreachable database, refused credentials, a schema missing
    /// or older), or null when the silo may start.
    /// </summary>
    public static async Task<string?> CheckBeforeStartAsync(IConfiguration configuration)
    {
        try
        {
            if (ClusterProfileOptions.From(configuration).Mode != ClusterMode.Postgres)
            {
                return null;
            }

            var connectionString = ConnectionString(configuration);
            await using var database = NpgsqlDataSource.Create(connectionString);
            try
            {
                await ClusterSchema.CheckAsync(database);
                return null;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                var target = new NpgsqlConnectionStringBuilder(connectionString);
                return $"The cluster database {target.Host}:{target.Port}/{target.Database} cannot be used: {(e as PostgresException)?.MessageText ?? e.Message}";
            }
        }
        catch (InvalidOperationException e)
        {
            return $"Cluster: {e.Message} (Cluster:Mode is {string.Join(" or ", Enum.GetNames<ClusterMode>())}).";
        }
        catch (ClusterSchemaException e)
        {
            return e.Message;
        }
    }

    private static string WithPoolSize(string connectionString, int size) =>
        new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = size }.ConnectionString;

    private static IPAddress FirstHostAddress() =>
        Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? IPAddress.Loopback;
}
