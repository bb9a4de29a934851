using System.ComponentModel;
using System.Diagnostics;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// Runs <c>docker-compose</c> (v1, Debian's package; scripts/servers.sh installs it) on deploy/docker-compose.yml. Its
/// <c>config</c> command needs no Docker engine. A missing tool fails the test: the file would otherwise go unchecked.
/// </summary>
internal static class DockerCompose
{
    public const string File = "deploy/docker-compose.yml";

    public sealed record Result(int ExitCode, string Output, string Errors);

    public static async Task<Result> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker-compose")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(Repository.PathOf(File));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Placeholders come from the file's own defaults, not from whatever a developer's shell exports.
        foreach (var variable in new[] { "POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME" })
        {
            start.Environment.Remove(variable);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("docker-compose did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                "docker-compose is not installed: run scripts/servers.sh (it installs Debian's docker-compose) or apt-get install docker-compose.", e);
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var errors = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return new Result(process.ExitCode, await output, await errors);
        }
    }

    /// <summary>The file as docker-compose resolves it (anchors merged, variables substituted), parsed.</summary>
    public static async Task<YamlDotNet.RepresentationModel.YamlMappingNode> ResolvedAsync()
    {
        var result = await RunAsync("config");
        Assert.True(result.ExitCode == 0, $"docker-compose config exited {result.ExitCode}: {result.Errors}");
        return Yaml.Documents(result.Output).Single();
    }
}
