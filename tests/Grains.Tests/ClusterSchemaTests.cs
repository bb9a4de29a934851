using ClinicalTrials.Grains.Cluster;
using Npgsql;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The cluster schema on a real PostgreSQL server: <c>Silo migrate</c> applies the numbered scripts once, and a silo's
/// start check refuses a database whose schema is missing, older or newer, saying what to do. Each test has a database
/// of its own, since each starts from a different schema.
/// </summary>
public sealed class ClusterSchemaTests
{
    /// <summary>Everything the scripts define that a second migration could change, as comparable text.</summary>
    private static async Task<List<string>> SchemaDumpAsync(TestPostgres postgres) =>
    [
        .. await postgres.RowsAsync("""
            SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY 1, 2
            """),
        .. await postgres.RowsAsync("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
        .. await postgres.RowsAsync("""
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2
            """),
        .. await postgres.RowsAsync("""
            SELECT p.oid::regprocedure::text, md5(p.prosrc) FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1
            """),
        .. await postgres.RowsAsync("SELECT sequence_name, start_value, increment FROM information_schema.sequences WHERE sequence_schema = 'public' ORDER BY 1"),
        .. await postgres.RowsAsync("SELECT querykey, md5(querytext) FROM orleansquery ORDER BY 1"),
        .. await postgres.RowsAsync("SELECT version, name, applied_at FROM clinical_schema_version ORDER BY 1"),
    ];

    [Fact]
    public async Task Migrating_a_fresh_database_applies_every_script_and_the_check_passes()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();

        var applied = await ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken);

        Assert.Equal(ClusterSchema.Version, applied.Count);
        Assert.Equal(
            Enumerable.Range(1, ClusterSchema.Version).Select(v => $"{v:000}-"),
            applied.Select(name => name[..4]));
        Assert.Equal(
            applied.Select((name, i) => $"{i + 1} | {name}"),
            await postgres.RowsAsync("SELECT version, name FROM clinical_schema_version ORDER BY version"));
        await ClusterSchema.CheckAsync(postgres.DataSource, TestContext.Current.CancellationToken);

        // What the silos read: the journal's and the lake's tables and the Orleans providers' queries.
        Assert.Equal(
            ["journal_counts", "journal_export", "journal_messages", "journal_patients", "journal_reasons", "journal_writers",
             "lake_bronze_progress", "lake_job_runs", "lake_silver_changes"],
            await postgres.RowsAsync("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'journal%' OR table_name LIKE 'lake%' ORDER BY 1"));
        Assert.Contains("WriteToStorageKey", await postgres.RowsAsync("SELECT querykey FROM orleansquery"));
    }

    [Fact]
    public async Task Migrating_again_applies_nothing_and_changes_nothing()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        await ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken);
        var before = await SchemaDumpAsync(postgres);

        var applied = await ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken);

        Assert.Empty(applied);
        Assert.Equal(before, await SchemaDumpAsync(postgres));
        await ClusterSchema.CheckAsync(postgres.DataSource, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Two_migrations_started_together_apply_the_scripts_once()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();

        // Two silos' `migrate` at the same moment: the advisory lock lets one apply everything, the other then nothing.
        var runs = await Task.WhenAll(
            ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken),
            ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken));

        Assert.Equal([0, ClusterSchema.Version], runs.Select(applied => applied.Count).Order());
        Assert.Equal(
            Enumerable.Range(1, ClusterSchema.Version).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            await postgres.RowsAsync("SELECT version FROM clinical_schema_version ORDER BY version"));
    }

    [Fact]
    public async Task The_check_on_an_empty_database_says_the_schema_is_missing_and_to_migrate()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();

        var refused = await Assert.ThrowsAsync<ClusterSchemaException>(() => ClusterSchema.CheckAsync(postgres.DataSource, TestContext.Current.CancellationToken));

        Assert.Contains("has no schema", refused.Message, StringComparison.Ordinal);
        Assert.Contains("migrate", refused.Message, StringComparison.Ordinal);
        // The check only reads: it leaves the database as empty as it found it.
        Assert.Empty(await postgres.RowsAsync("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"));
    }

    [Fact]
    public async Task The_check_on_an_older_schema_says_it_is_older_and_to_migrate()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        await ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken);
        await postgres.ExecuteAsync($"DELETE FROM clinical_schema_version WHERE version = {ClusterSchema.Version}");

        var refused = await Assert.ThrowsAsync<ClusterSchemaException>(() => ClusterSchema.CheckAsync(postgres.DataSource, TestContext.Current.CancellationToken));

        Assert.Contains($"at version {ClusterSchema.Version - 1}; this silo needs {ClusterSchema.Version}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("migrate", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_check_on_a_newer_schema_says_to_run_the_newer_build()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        await ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken);
        await postgres.ExecuteAsync($"INSERT INTO clinical_schema_version (version, name) VALUES ({ClusterSchema.Version + 1}, 'from-a-later-build')");

        var refused = await Assert.ThrowsAsync<ClusterSchemaException>(() => ClusterSchema.CheckAsync(postgres.DataSource, TestContext.Current.CancellationToken));

        Assert.Contains($"newer than this silo knows ({ClusterSchema.Version})", refused.Message, StringComparison.Ordinal);
        // And `migrate` of the older build leaves the newer schema alone rather than re-applying anything.
        Assert.Empty(await ClusterSchema.MigrateAsync(postgres.DataSource, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_check_on_an_unreachable_database_fails_with_the_connection_error()
    {
        await using var unreachable = TestPostgres.Unreachable();

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ClusterSchema.CheckAsync(unreachable, TestContext.Current.CancellationToken));
    }
}
