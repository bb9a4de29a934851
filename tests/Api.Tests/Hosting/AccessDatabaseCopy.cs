using ClinicalTrials.Api.Security;
using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>Copies of a live silo's access database (keys, audit trail, checkpoints), to tamper with.</summary>
internal static class AccessDatabaseCopy
{
    /// <summary>A consistent copy of <paramref name="fixture"/>'s access database (SQLite's online backup) in <paramref name="directory"/>.</summary>
    public static async Task MakeAsync(AccessFixture fixture, string directory)
    {
        // At least a few records beyond the fixture's key creations.
        await fixture.CreateAsync(new ApiKeyRequest("copy", Roles.Auditor, null));
        await using var live = new SqliteConnection($"Data Source={Path.Combine(fixture.DataPath, AccessDatabase.SqliteFileName)};Pooling=false");
        await using var target = new SqliteConnection($"Data Source={Path.Combine(directory, AccessDatabase.SqliteFileName)};Pooling=false");
        await live.OpenAsync(TestContext.Current.CancellationToken);
        await target.OpenAsync(TestContext.Current.CancellationToken);
        live.BackupDatabase(target);
    }

    public static async Task ExecuteAsync(string directory, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, AccessDatabase.SqliteFileName)};Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
