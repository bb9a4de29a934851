using ClinicalTrials.Grains.Cluster;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// One database with the cluster schema applied, shared by the tests of a class (each uses its own writers, sites,
/// patients and message ids). Made by the first test that asks, so that its skip or failure is that test's.
/// </summary>
public sealed class MigratedPostgres : IAsyncDisposable
{
    private readonly Lazy<Task<TestPostgres>> _database = new(CreateAsync);

    internal Task<TestPostgres> DatabaseAsync() => _database.Value;

    private static async Task<TestPostgres> CreateAsync()
    {
        var postgres = await TestPostgres.CreateDatabaseAsync();
        await ClusterSchema.MigrateAsync(postgres.DataSource);
        return postgres;
    }

    public async ValueTask DisposeAsync()
    {
        if (_database.IsValueCreated && _database.Value.IsCompletedSuccessfully)
        {
            await (await _database.Value).DisposeAsync();
        }
    }
}
