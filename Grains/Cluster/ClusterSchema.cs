using System.Reflection;
using Npgsql;

namespace ClinicalTrials.Grains.Cluster;

/// <summary>
/// The cluster profile's database schema: Orleans' ADO.NET tables and queries, and the journal's tables, as numbered
/// scripts (<c>Cluster/Schema/NNN-name.sql</c>, embedded). Each applied script is recorded in
/// <c>clinical_schema_version</c>, so applying the schema again changes nothing.
/// </summary>
public static class ClusterSchema
{
    // Any constant works: it only keeps two migrations started at the same moment from interleaving.
    private const long MigrationLock = 0x436C696E6963616C;

    private static readonly (int Version, string Name, string Sql)[] Scripts = LoadScripts();

    /// <summary>The schema version this build needs: its newest script.</summary>
    public static int Version => Scripts[^1].Version;

    /// <summary>Applies the scripts the database lacks, all in one transaction; returns the names of those applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource database, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken);
        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS clinical_schema_version (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, cancellationToken);
        var current = await CurrentVersionAsync(connection, cancellationToken);
        var applied = new List<string>();
        foreach (var (version, name, sql) in Scripts.Where(s => s.Version > current))
        {
            await ExecuteAsync(connection, sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO clinical_schema_version (version, name) VALUES ($1, $2)", connection);
            record.Parameters.Add(new NpgsqlParameter { Value = version });
            record.Parameters.Add(new NpgsqlParameter { Value = name });
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied.Add(name);
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    /// <summary>Throws <see cref="ClusterSchemaException"/>, saying what to do, unless the database's schema is this build's.</summary>
    public static async Task CheckAsync(NpgsqlDataSource database, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        int version;
        try
        {
            version = await CurrentVersionAsync(connection, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            version = 0;
        }

        if (version == 0)
        {
            throw new ClusterSchemaException(
                $"The cluster database has no schema. Apply it with `ClinicalTrials.Silo migrate` (same configuration), then start the silo.");
        }

        if (version < Version)
        {
            throw new ClusterSchemaException(
                $"The cluster database's schema is at version {version}; this silo needs {Version}. Apply the newer scripts with `ClinicalTrials.Silo migrate`.");
        }

        if (version > Version)
        {
            throw new ClusterSchemaException(
                $"The cluster database's schema is at version {version}, newer than this silo knows ({Version}). Run the silo build that applied it.");
        }
    }

    private static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM clinical_schema_version", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static (int, string, string)[] LoadScripts()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string prefix = "schema/";
        var scripts = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(name =>
            {
                var file = name[prefix.Length..];
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                return (int.Parse(file[..3], System.Globalization.CultureInfo.InvariantCulture), Path.GetFileNameWithoutExtension(file), reader.ReadToEnd());
            })
            .OrderBy(s => s.Item1)
            .ToArray();
        if (scripts.Length == 0 || scripts.Select((s, i) => s.Item1 != i + 1).Any(gap => gap))
        {
            throw new InvalidOperationException("The schema scripts must be numbered 001, 002, ... without gaps.");
        }

        return scripts;
    }
}

/// <summary>The cluster database's schema is missing, older or newer than this build's; the message says what to do.</summary>
public sealed class ClusterSchemaException(string message) : Exception(message);
