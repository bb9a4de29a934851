using ClinicalTrials.Grains.Cluster;
using Npgsql;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// <c>ClinicalTrials.Silo migrate</c>: applies the cluster database's schema (docs/cluster.md) with the silo's
/// configuration (<c>ConnectionStrings:Postgres</c> from appsettings, environment or the command line). Idempotent:
/// run it before every deployment; it applies only what the database lacks.
/// </summary>
public static class MigrateCommand
{
    /// <param name="settings">Configuration keys from the command line (<c>--ConnectionStrings:Postgres=…</c>).</param>
    public static async Task<int> RunAsync(string[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
        try
        {
            await using var database = NpgsqlDataSource.Create(ClusterProfile.ConnectionString(builder.Configuration));
            var applied = await ClusterSchema.MigrateAsync(database);
            Console.WriteLine(applied.Count == 0
                ? $"The schema is current (version {ClusterSchema.Version}); nothing to apply."
                : $"Applied {string.Join(", ", applied)}; the schema is at version {ClusterSchema.Version}.");
            return 0;
        }
        catch (Exception e) when (e is ClusterSchemaException or NpgsqlException)
        {
            await Console.Error.WriteLineAsync($"migrate: {(e as PostgresException)?.MessageText ?? e.Message}");
            return 1;
        }
    }
}
