using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;
using Npgsql;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The cluster profile's schema command and its refusals at start, as operators meet them: the silo program in a child
/// process, its exit code and what it printed. What migrating twice does to the database: ClusterSchemaTests.
/// </summary>
public sealed class ClusterStartTests
{
    private const int RefusedToStart = 3;

    [Fact]
    public async Task Migrate_applies_the_schema_and_a_second_run_says_there_is_nothing_to_apply()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var connection = $"--ConnectionStrings:Postgres={database.ConnectionString}";

        var first = await SiloProcess.RunToExitAsync(ct, "migrate", connection);
        var second = await SiloProcess.RunToExitAsync(ct, "migrate", connection);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("Applied 001-orleans-main", first.Output, StringComparison.Ordinal);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("nothing to apply", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_refuses_to_start_on_a_database_without_the_schema()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();

        var line = await RefusedStartAsync(database.ConnectionString);

        Assert.Contains("has no schema", line, StringComparison.Ordinal);
        Assert.Contains("migrate", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_refuses_to_start_on_an_older_schema()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestPostgres.CreateDatabaseAsync();
        Assert.Equal(0, (await SiloProcess.RunToExitAsync(ct, "migrate", $"--ConnectionStrings:Postgres={database.ConnectionString}")).ExitCode);
        await ExecuteAsync(database.ConnectionString, "DELETE FROM clinical_schema_version WHERE version = (SELECT max(version) FROM clinical_schema_version)");

        var line = await RefusedStartAsync(database.ConnectionString);

        Assert.Contains("this silo needs", line, StringComparison.Ordinal);
        Assert.Contains("migrate", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_refuses_to_start_with_credentials_the_database_does_not_know()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var stranger = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = "nobody_here", Password = "wrong" };

        var line = await RefusedStartAsync(stranger.ConnectionString);

        Assert.Contains("cannot be used", line, StringComparison.Ordinal);
        Assert.Contains("nobody_here", line, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_refuses_to_start_when_the_database_cannot_be_reached()
    {
        var port = FreePorts.Next();

        var line = await RefusedStartAsync($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=3");

        Assert.Contains($"127.0.0.1:{port}/postgres cannot be used", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_refuses_to_start_without_an_audit_checkpoint_key_or_with_one_it_cannot_use()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestPostgres.CreateDatabaseAsync();
        Assert.Equal(0, (await SiloProcess.RunToExitAsync(ct, "migrate", $"--ConnectionStrings:Postgres={database.ConnectionString}")).ExitCode);
        using var secrets = new DataDirectory();
        var notAKey = Path.Combine(secrets.Path, "not-a-key.pem");
        await File.WriteAllTextAsync(notAKey, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", ct);

        var missing = await RefusedStartAsync(database.ConnectionString);
        var unusable = await RefusedStartAsync(database.ConnectionString, $"--{AuditCheckpointKey.Setting}={notAKey}");
        var key = Path.Combine(secrets.Path, "key.pem");
        using (var made = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
        {
            await File.WriteAllTextAsync(key, made.ExportPkcs8PrivateKeyPem(), ct);
        }

        var unusableRetired = await RefusedStartAsync(database.ConnectionString, $"--{AuditCheckpointKey.Setting}={key}",
            $"--Security:Audit:TrustedPublicKeyFiles:0={notAKey}");

        Assert.StartsWith($"Cluster:Mode is Postgres, but {AuditCheckpointKey.Setting} is not set", missing, StringComparison.Ordinal);
        Assert.Contains($"{notAKey} is not an ECDSA P-256 private key in PEM", unusable, StringComparison.Ordinal);
        Assert.DoesNotContain("bm90IGEga2V5", unusable, StringComparison.Ordinal);
        Assert.Contains($"Security:Audit:TrustedPublicKeyFiles: {notAKey} is not an ECDSA P-256 public key in PEM", unusableRetired, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_a_job_from_the_command_line_is_refused_in_the_cluster_profile_and_says_where_jobs_run()
    {
        // The cluster's bronze and job progress are in its database, and only its job grains keep runs from overlapping.
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken,
            "run-job", "bronze-to-silver", "--Cluster:Mode=Postgres");

        Assert.Equal(2, exitCode);
        Assert.Equal("In the cluster profile a job runs in the cluster: POST /api/pipeline/jobs/{name}/run on any silo.", output.Trim());
    }

    /// <summary>Starts a cluster silo that must refuse: exit code 3 and one line on its output, no stack trace.</summary>
    private static async Task<string> RefusedStartAsync(string connectionString, params string[] settings)
    {
        using var data = new DataDirectory();
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken,
            ["--data-dir", data.Path, "--Cluster:Mode=Postgres", $"--ConnectionStrings:Postgres={connectionString}",
            $"--Orleans:SiloPort={FreePorts.Next()}", $"--Orleans:GatewayPort={FreePorts.Next()}", .. settings]);

        Assert.True(exitCode == RefusedToStart, $"exit code {exitCode}:\n{output}");
        return Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
