using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace ClinicalTrials.TestSupport;

/// <summary>
/// PostgreSQL for the tests that need it. <c>scripts/test.sh</c> starts a server (scripts/servers.sh) and sets
/// <see cref="Variable"/>; with it set, a test that cannot reach PostgreSQL fails. Without it those tests are skipped.
/// Each instance is a database of its own (made at once, or later to play a database that comes back), dropped when it
/// is disposed.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    public const string Variable = "CLINICAL_TEST_POSTGRES";

    private readonly string _admin;
    private readonly string _name;

    private TestPostgres(string admin, string name)
    {
        _admin = admin;
        _name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    /// <summary>A connection string for the fresh database.</summary>
    public string ConnectionString { get; }

    /// <summary>A data source on the fresh database, disposed with it.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// Makes a fresh, empty database. Skips the calling test when <see cref="Variable"/> is unset; fails it when the
    /// server does not answer. Call from a test (not from a fixture's set-up), so that the skip is the test's.
    /// </summary>
    public static async Task<TestPostgres> CreateDatabaseAsync()
    {
        var postgres = Reserve();
        await postgres.CreateAsync();
        return postgres;
    }

    /// <summary>A database name and its connection string; the database itself is made by <see cref="CreateAsync"/>, later.</summary>
    public static TestPostgres Reserve()
    {
        var admin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Skip($"{Variable} is not set: run 'bash scripts/test.sh', which starts PostgreSQL, to run this test against a real server.");
        }

        return new TestPostgres(admin, $"clinical_test_{Guid.NewGuid():N}");
    }

    public async Task CreateAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {_name}", connection);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException)
        {
            Assert.Fail($"PostgreSQL at '{_admin}' does not answer ({Variable} says it should): {e.Message}");
        }
    }

    /// <summary>
    /// A data source on a loopback port nobody listens on (taken from the OS, then closed): every connection is refused
    /// at once. Needs no server, so tests using only it run whether or not <see cref="Variable"/> is set.
    /// </summary>
    public static NpgsqlDataSource Unreachable()
    {
        return NpgsqlDataSource.Create($"Host=127.0.0.1;Port={FreePorts.Next()};Username=postgres;Database=clinical;Timeout=5");
    }

    /// <summary>Runs <paramref name="sql"/> and returns every row, each column as text, the rows in the order the query gives.</summary>
    public async Task<List<string>> RowsAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        // Connections the code under test pooled by connection string would hold the database open.
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
