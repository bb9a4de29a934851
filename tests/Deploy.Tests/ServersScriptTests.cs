using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// scripts/servers.sh on ports of the test's own (the suite's servers keep running): it starts every server, leaves
/// running ones alone, and <c>stop</c> frees their ports again.
/// </summary>
public sealed class ServersScriptTests
{
    [Fact]
    public async Task Servers_start_once_and_stop_frees_their_ports()
    {
        var ports = new Dictionary<string, int> { ["REDIS_PORT"] = FreePorts.Next(), ["S3_PORT"] = FreePorts.Next(), ["POSTGRES_PORT"] = FreePorts.Next(), ["RABBITMQ_PORT"] = FreePorts.Next(), ["RABBITMQ_DIST_PORT"] = FreePorts.Next() };
        // The Kafka mock cluster takes random ports; a name of the test's own keeps it apart from the suite's.
        var kafkaName = $"test-{ports["REDIS_PORT"]}";
        try
        {
            var started = await RunAsync(ports, kafkaName);
            var again = await RunAsync(ports, kafkaName);
            Assert.True(ports.Values.All(Listening), $"Not every server listens after the start:\n{started}");

            var stopped = await RunAsync(ports, kafkaName, "stop");

            Assert.Equal(5, started.Split('\n').Count(line => line.Contains(": started on 127.0.0.1:", StringComparison.Ordinal)));
            Assert.Equal(5, again.Split('\n').Count(line => line.Contains(": already running on 127.0.0.1:", StringComparison.Ordinal)));
            Assert.Equal(5, stopped.Split('\n').Count(line => line.Contains(": stopped", StringComparison.Ordinal)));
            Assert.DoesNotContain(ports.Values, Listening);
        }
        finally
        {
            await RunAsync(ports, kafkaName, "stop");
            RemoveServerFiles(ports.Values);
            if (Directory.Exists(Repository.PathOf($".servers/kafka-{kafkaName}")))
            {
                Directory.Delete(Repository.PathOf($".servers/kafka-{kafkaName}"), recursive: true);
            }
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_checkout_the_postgres_user_cannot_enter_keeps_the_cluster_under_var_tmp()
    {
        // A clone under a 0700 home or temp directory: the script alone, copied there, as it runs from such a clone.
        var home = Directory.CreateTempSubdirectory("private-home-");
        File.SetUnixFileMode(home.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var script = Path.Combine(home.FullName, "checkout", "scripts", "servers.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(script)!);
        File.Copy(Repository.PathOf("scripts/servers.sh"), script);
        var port = FreePorts.Next();
        var environment = new Dictionary<string, string> { ["POSTGRES_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        try
        {
            var started = await RunScriptAsync(environment, script, "postgres");

            Assert.Contains($"its data and log go to /var/tmp/clinicaltrials-postgres-{port}", started, StringComparison.Ordinal);
            Assert.Contains($"postgres: started on 127.0.0.1:{port}", started, StringComparison.Ordinal);
            Assert.True(Listening(port));
            Assert.Contains("postgres: stopped", await RunScriptAsync(environment, script, "stop"), StringComparison.Ordinal);
            Assert.False(Listening(port));
        }
        finally
        {
            await RunScriptAsync(environment, script, "stop");
            RemoveServerFiles([port]);
            home.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_unknown_server_name_is_refused_with_the_names_it_knows()
    {
        var start = new ProcessStartInfo("bash", [Repository.PathOf("scripts/servers.sh"), "postgresql"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("unknown server 'postgresql': name redis, s3rver, postgres, kafka or rabbitmq", output, StringComparison.Ordinal);
    }

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(6);

    private static Task<string> RunAsync(Dictionary<string, int> ports, string kafkaName, params string[] arguments) =>
        RunScriptAsync(
            ports.Select(p => KeyValuePair.Create(p.Key, p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))).Append(KeyValuePair.Create("KAFKA_MOCK_NAME", kafkaName)),
            Repository.PathOf("scripts/servers.sh"), arguments);

    /// <summary>Runs <paramref name="script"/> with <paramref name="environment"/> (ports, names); its output.</summary>
    private static async Task<string> RunScriptAsync(IEnumerable<KeyValuePair<string, string>> environment, string script, params string[] arguments)
    {
        // Its own standard streams: the servers it starts must not hold on to the test process's.
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = Repository.Root, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        // A first start runs initdb and boots an Erlang node while the other test assemblies load both cores: in CI that
        // once took over two minutes. The limit only stops a hung script, and then says which server it was waiting for.
        using var timeout = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"servers.sh {string.Join(' ', arguments)} did not finish within {ScriptTimeout.TotalMinutes} minutes; it printed:\n{await output}\n{await errors}");
        }

        Assert.True(process.ExitCode == 0, $"servers.sh {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await errors}");
        return await output;
    }

    /// <summary>The servers' data and logs, under .servers/ or (PostgreSQL, from a private clone) /var/tmp.</summary>
    private static void RemoveServerFiles(IEnumerable<int> ports)
    {
        foreach (var port in ports)
        {
            foreach (var directory in new[] { $"redis-{port}", $"s3rver-{port}", $"postgres-{port}", $"rabbitmq-{port}" }.Select(d => Repository.PathOf($".servers/{d}"))
                .Append($"/var/tmp/clinicaltrials-postgres-{port}").Where(Directory.Exists))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
