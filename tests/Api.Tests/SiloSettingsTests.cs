using System.Diagnostics;
using System.Net;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The silo process reads the settings beside it, whatever directory a service manager starts it from, and refuses
/// settings it cannot run with.
/// </summary>
public sealed class SiloSettingsTests
{
    [Fact]
    public async Task Silo_started_from_another_directory_applies_its_appsettings()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path, cancellation);
        using var http = silo.CreateClient();

        using var response = await http.PostAsync("/api/clinical/data", Json(Vitals(NewPatientId(), NewSiteId(), 72)), cancellation);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        // appsettings.json sets Microsoft.AspNetCore to Warning: without it every request would log at Information.
        await Eventually.UntilAsync(() => silo.Output.Contains("Application started", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the silo logs that it started");
        Assert.DoesNotContain("Request starting", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_silo_on_the_ports_of_a_running_one_refuses_to_start_with_one_line()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        using var otherData = new DataDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path, cancellation);
        var gatewayPort = silo.Setting("--Orleans:GatewayPort");

        var (exitCode, output) = await SiloProcess.RunToExitAsync(cancellation,
            "--data-dir", otherData.Path, "--urls", $"http://127.0.0.1:{FreePorts.Next()}",
            $"--Orleans:SiloPort={silo.Setting("--Orleans:SiloPort")}", $"--Orleans:GatewayPort={gatewayPort}");

        Assert.True(exitCode == 3, $"exit code {exitCode}:\n{output}");
        Assert.Contains("is in use by another process", Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        using var http = silo.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/clinical/health", cancellation)).StatusCode);
    }

    [Fact]
    public async Task Run_is_the_same_as_no_command()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var silo = await SiloProcess.StartAsync(["run"], data.Path, cancellation);
        using var http = silo.CreateClient();

        using var response = await http.PostAsync("/api/clinical/data", Json(Vitals(NewPatientId(), NewSiteId(), 72)), cancellation);

        // Listening on --urls, with the settings' admin key, keeping its state under --data-dir.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.UntilAsync(() => File.Exists(Path.Combine(data.Path, AccessDatabase.SqliteFileName)), TimeSpan.FromSeconds(10), "the access database is under --data-dir");
    }

    [Fact]
    public async Task Help_lists_the_commands_and_an_unknown_option_is_refused_without_starting()
    {
        var cancellation = TestContext.Current.CancellationToken;

        var help = await SiloProcess.RunToExitAsync(cancellation, "--help");
        var unknown = await SiloProcess.RunToExitAsync(cancellation, "--dta-dir", "/tmp/x", "--urls", $"http://127.0.0.1:{FreePorts.Next()}");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:", help.Output, StringComparison.Ordinal);
        foreach (var command in new[] { "run", "migrate", "run-job", "import", "export", "doctor", "keys", "token", "audit" })
        {
            Assert.Contains($"\n  {command} ", help.Output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        }

        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("Unknown argument '--dta-dir'", Assert.Single(unknown.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shutdown_drain_the_shutdown_timeout_would_cut_short_is_refused_at_start()
    {
        using var data = new DataDirectory();

        // The host's shutdown timeout (30 s by default) counts the drain: Kestrel and Orleans must still stop within it.
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken,
            "--data-dir", data.Path, "--urls", $"http://127.0.0.1:{FreePorts.Next()}", $"--Orleans:SiloPort={FreePorts.Next()}",
            $"--Orleans:GatewayPort={FreePorts.Next()}", "--Cluster:ShutdownDrain=00:00:30");

        Assert.True(exitCode != 0, $"exit code {exitCode}:\n{output}");
        Assert.Contains("Cluster:ShutdownDrain must be zero or more and shorter than the host's shutdown timeout", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--from", "run-job", "offline-features", "--from", "notadate")]
    [InlineData("--hours", "token", "--subject", "alice", "--role", "admin", "--hours", "eight")]
    [InlineData("'--Cluster:Mode=Postgres'", "doctor", "--Cluster:Mode=Postgres")] // doctor reads no configuration
    [InlineData("'--Orleans:SiloPort'", "--Orleans:SiloPort")] // a setting without its value
    public async Task A_malformed_command_line_is_refused_with_one_line_naming_the_option(string named, params string[] arguments)
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync(TestContext.Current.CancellationToken, arguments);

        Assert.True(exitCode == 2, $"exit code {exitCode}:\n{output}");
        Assert.Contains(named, Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
