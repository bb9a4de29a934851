using Npgsql;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// PostgreSQL for the tests that need it. <c>scripts/test.sh</c> starts a server (scripts/servers.sh) and sets
/// <see cref="Variable"/>; with it set, a test that cannot reach PostgreSQL fails. Without it those tests are skipped.
/// Each test gets a database of its own (made at once, or later to play a database that comes back), dropped afterwards.
/// </summary>
internal sealed class TestPostgres : IAsyncDisposable
{
    public const string Variable = "CLINICAL_TEST_POSTGRES";

    private readonly string _admin;
    private readonly string _database;

    private TestPostgres(string admin, string database, string connectionString)
    {
        _admin = admin;
        _database = database;
        ConnectionString = connectionString;
    }

    /// <summary>A connection string for the fresh database.</summary>
    public string ConnectionString { get; }

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

        var database = $"clinical_test_{Guid.NewGuid():N}";
        return new TestPostgres(admin, database, new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString);
    }

    public async Task CreateAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {_database}", connection);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
        {
            Assert.Fail($"PostgreSQL at '{_admin}' does not answer ({Variable} says it should): {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
