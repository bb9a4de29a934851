using System.Diagnostics;
using StackExchange.Redis;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// Redis for the tests that need it. <c>scripts/test.sh</c> starts a server (scripts/servers.sh) and sets
/// <see cref="Variable"/>; with it set, a test that cannot reach Redis fails. Without it (a plain <c>dotnet test</c>)
/// those tests are skipped, with the reason shown.
/// </summary>
internal static class TestRedis
{
    public const string Variable = "CLINICAL_TEST_REDIS";

    /// <summary>The shared server the test script started; skips the test when <see cref="Variable"/> is not set.</summary>
    public static string RequireConnectionString()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            Assert.Skip($"{Variable} is not set: run 'bash scripts/test.sh', which starts Redis, to run this test against a real server.");
        }

        return value;
    }

    /// <summary>A client connection; fails the test when Redis does not answer.</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string connectionString)
    {
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(connectionString);
        }
        catch (RedisConnectionException e)
        {
            Assert.Fail($"Redis at {connectionString} does not answer ({Variable} says it should): {e.Message}");
            throw;
        }
    }
}

/// <summary>A private redis-server child process on a free loopback port, which a test may kill and start again.</summary>
internal sealed class RedisServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts redis-server (no persistence) and returns once it logs that it accepts connections.</summary>
    public static async Task<RedisServerProcess> StartAsync(int port)
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = start };
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException($"redis-server on port {port} exited while starting:\n{string.Join('\n', output)}"));
                return;
            }

            lock (output)
            {
                output.Add(e.Data);
            }

            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        var server = new RedisServerProcess(process, port);
        try
        {
            await ready.Task.WaitAsync(StartTimeout, TestContext.Current.CancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>SIGKILL: Redis is gone at once, as in a crash.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
