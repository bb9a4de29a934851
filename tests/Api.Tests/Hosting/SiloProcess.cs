using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// The silo as operators run it: <c>dotnet ClinicalTrials.Silo.dll</c> in a child process (the build output copied
/// beside this test assembly by the project reference), started from another directory, on its own data directory and
/// free ports.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    /// <summary>
    /// How long a start may take, in processor time the silo has had: it needs about 9 s of it to answer healthy
    /// (measured on the 2-core test machine). A wall-clock limit that fits a quiet machine fails healthy starts on a
    /// busy one: with builds and other test hosts running (load average 40-60 on 2 cores) a silo gets a twentieth of
    /// a core and took well over a minute to write its first log line.
    /// </summary>
    private static readonly TimeSpan StartProcessorBudget = TimeSpan.FromSeconds(60);

    /// <summary>The bound on a start (or a command) in wall-clock time, for a process that hangs without using the processor.</summary>
    private static readonly TimeSpan StartWallLimit = TimeSpan.FromMinutes(5);

    /// <summary>The setting of a plain-HTTP Kestrel endpoint, for a silo whose endpoints come from its configuration.</summary>
    public const string HttpEndpointSetting = "--Kestrel:Endpoints:Http:Url";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly System.Text.StringBuilder _transcript = new();

    private SiloProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Every line the process wrote.</summary>
    public string Transcript
    {
        get
        {
            lock (_transcript)
            {
                return _transcript.ToString();
            }
        }
    }

    /// <param name="dataDirectory">The silo's data directory.</param>
    /// <param name="cancellationToken">Stops waiting for the silo to become healthy.</param>
    /// <param name="settings">Further configuration as command-line settings (<c>--Cluster:Mode=Postgres</c>).</param>
    public static Task<SiloProcess> StartAsync(string dataDirectory, CancellationToken cancellationToken, params string[] settings) =>
        StartAsync([], dataDirectory, cancellationToken, settings);

    /// <param name="command">What comes before the options: nothing, or <c>run</c>, which is the same.</param>
    /// <param name="dataDirectory">The silo's data directory.</param>
    /// <param name="cancellationToken">Stops waiting for the silo to become healthy.</param>
    /// <param name="settings">Further configuration as command-line settings (<c>--Cluster:Mode=Postgres</c>).</param>
    public static async Task<SiloProcess> StartAsync(string[] command, string dataDirectory, CancellationToken cancellationToken, params string[] settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            var silo = Start([Dll(), .. command, .. SiloArguments(dataDirectory, settings), .. PortArguments()]);
            if (await silo.WaitUntilHealthyAsync(cancellationToken))
            {
                return silo;
            }

            // A free port can be taken by someone else before the silo binds it; only that is worth another try.
            var output = silo.Output;
            await silo.DisposeAsync();
            Assert.True(attempt < 3 && output.Contains("address already in use", StringComparison.OrdinalIgnoreCase),
                $"The silo did not start (attempt {attempt}):\n{output}");
        }
    }

    /// <summary>
    /// Starts the same silo again, on the same data directory, settings and ports, after it was killed: a silo that
    /// comes back on its old endpoint makes the cluster declare its earlier incarnation dead at once.
    /// </summary>
    public async Task<SiloProcess> RestartAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        var silo = Start([.. _process.StartInfo.ArgumentList]);
        Assert.True(await silo.WaitUntilHealthyAsync(cancellationToken), $"The silo did not start again:\n{silo.Output}");
        return silo;
    }

    /// <summary>Runs the silo program with <paramref name="arguments"/> (a command, or a start that must fail) to its exit.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        await using var silo = Start([Dll(), .. arguments]);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartWallLimit);
        await silo._process.WaitForExitAsync(timeout.Token);
        return (silo._process.ExitCode, silo.Output);
    }

    private static string Dll()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ClinicalTrials.Silo.dll");
        Assert.True(File.Exists(dll), $"The silo build output is missing: {dll}");
        return dll;
    }

    private static string[] SiloArguments(string dataDirectory, string[] settings) =>
        ["--data-dir", dataDirectory, $"--{TestCredentials.Setting}={TestCredentials.AdminKey}", .. settings];

    private static string[] PortArguments() =>
    [
        "--urls", $"http://127.0.0.1:{FreePorts.Next()}",
        $"--Orleans:SiloPort={FreePorts.Next()}",
        $"--Orleans:GatewayPort={FreePorts.Next()}",
    ];

    private static SiloProcess Start(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // Commands that call a running silo (doctor) send the fixtures' admin key.
            Environment = { ["CLINICAL_API_KEY"] = TestCredentials.AdminKey },
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Kestrel endpoints in the configuration replace --urls; the plain-HTTP one is where the tests talk to the silo.
        var urls = Array.IndexOf(arguments, "--urls");
        var endpoint = arguments.FirstOrDefault(a => a.StartsWith(HttpEndpointSetting + "=", StringComparison.Ordinal))?[(HttpEndpointSetting.Length + 1)..];
        var process = new Process { StartInfo = start };
        var silo = new SiloProcess(process, new Uri(endpoint ?? (urls >= 0 ? arguments[urls + 1] : "http://127.0.0.1:0")));
        process.OutputDataReceived += (_, e) => silo.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>The value of a <c>--name=value</c> setting the silo was started with.</summary>
    public string Setting(string name) =>
        _process.StartInfo.ArgumentList.Single(a => a.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];

    /// <summary>A client that sends the fixtures' admin key (<see cref="TestCredentials"/>).</summary>
    public HttpClient CreateClient() => new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) }.Sending();

    /// <summary>The silo's operating-system process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>SIGKILL: no shutdown hooks, no flush, nothing graceful.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as a service manager or Kubernetes stops the silo; returns its exit code once it has stopped.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        Terminate();
        return await ExitCodeAsync(cancellationToken);
    }

    /// <summary>Sends SIGTERM and returns at once: the silo begins its graceful stop.</summary>
    public void Terminate() => Assert.Equal(0, SendSignal(_process.Id, SigTerm));

    /// <summary>The exit code, once the process has exited.</summary>
    public async Task<int> ExitCodeAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        lock (_transcript)
        {
            _transcript.AppendLine(line);
        }

        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>
    /// Polls the health endpoint until it answers 200 (true), or the process dies or its start budget is spent (false):
    /// <see cref="StartProcessorBudget"/> of processor time, or <see cref="StartWallLimit"/>.
    /// </summary>
    private async Task<bool> WaitUntilHealthyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) }.Sending();
        var wall = Stopwatch.StartNew();
        while (wall.Elapsed < StartWallLimit && !_process.HasExited && ProcessorTime() < StartProcessorBudget)
        {
            try
            {
                using var response = await http.GetAsync("/api/clinical/health", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The request timed out while the silo was busy starting.
            }

            await Task.Delay(100, cancellationToken);
        }

        if (_process.HasExited)
        {
            // Let the output readers drain what the process wrote before it died.
            await _process.WaitForExitAsync(cancellationToken);
        }

        return false;
    }

    private TimeSpan ProcessorTime()
    {
        try
        {
            return _process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero; // exited in between: the loop sees that next
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
