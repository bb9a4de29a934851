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

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(6);

    private static async Task<string> RunAsync(Dictionary<string, int> ports, string kafkaName, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Repository.PathOf("scripts/servers.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, port) in ports)
        {
            start.Environment[name] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        start.Environment["KAFKA_MOCK_NAME"] = kafkaName;

        using var process = Process.Start(start)!;
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
