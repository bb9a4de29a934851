using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClinicalTrials.Api.Health;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Silo.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// A silo of the cluster stopped with SIGTERM behind a load balancer answers every request it took (issue 12,
/// docs/cluster.md): <c>/health/ready</c> turns 503 first, the silo goes on answering (each answer closing its
/// keep-alive connection) for its drain, and a request still in flight when Kestrel stops listening is completed.
/// </summary>
public sealed class ShutdownDrainTests
{
    /// <summary>Keep-alive clients posting one message after another, as sites behind a load balancer do.</summary>
    private const int Clients = 4;

    /// <summary>
    /// How long the silo may take to stop after its drain: Kestrel and Orleans stop within the host's shutdown timeout
    /// (30 s), which counts the drain; the rest is margin for the process to end on a busy machine.
    /// </summary>
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_silo_told_to_stop_turns_unready_answers_every_request_it_took_and_exits_after_its_drain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await PostgresCluster.StartAsync(silos: 1);
        var silo = cluster.Silos[0];
        var drain = ClusterProfileOptions.DefaultClusterDrain;
        var site = NewSiteId();
        var inRotation = true;
        var failures = new ConcurrentQueue<string>();
        var clients = Enumerable.Range(0, Clients).Select(_ => new KeepAliveClient(silo, site, failures)).ToList();
        using var prober = silo.CreateClient();
        using var heldSender = silo.CreateClient();
        heldSender.Timeout = Timeout.InfiniteTimeSpan; // the held batch waits out the drain; the test's own deadlines bound it
        try
        {
            var senders = clients.Select(c => c.SendWhileAsync(() => Volatile.Read(ref inRotation), ct)).ToList();
            await Eventually.UntilAsync(() => clients.All(c => c.Answered >= 10) || !failures.IsEmpty, TimeSpan.FromSeconds(60), "10 answers to each client");
            Assert.True(failures.IsEmpty, string.Join("\n", failures));
            // The clients reuse their connections while the silo runs.
            Assert.All(clients, c => Assert.Equal(0, c.AnsweredWithClose));

            // A batch whose body is still arriving when Kestrel stops listening: Kestrel must complete it.
            var held = new HeldBody($"[{Vitals(NewPatientId(), site).ToJsonString()},", $"{Vitals(NewPatientId(), site).ToJsonString()}]");
            var heldAnswer = heldSender.PostAsync("/api/clinical/data/batch", held, ct);
            await held.FirstPartSent.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);

            var stopping = Stopwatch.StartNew();
            silo.Terminate();

            // The load balancer's probe: the silo leaves the rotation at the first answer other than 200.
            var ready = await Eventually.UntilAsync(() => ReadyStatusAsync(prober, ct), status => status != HttpStatusCode.OK,
                drain + StopBound, "/health/ready stops answering 200");
            Volatile.Write(ref inRotation, false);
            await Task.WhenAll(senders);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);

            // Requests sent by a balancer that has not yet seen the probe fail are answered, and close their connections.
            foreach (var client in clients)
            {
                Assert.True(await client.SendOnceAsync(ct), $"A request sent while the silo drains was not answered: {string.Join("\n", failures)}");
            }

            Assert.All(clients, c => Assert.True(c.AnsweredWithClose > 0, "No answer during the drain carried Connection: close."));

            // Once the drain is over Kestrel stops listening; the batch it took before is still being read.
            await Eventually.UntilAsync(() => ListeningAsync(silo.BaseAddress), listening => !listening, drain + StopBound, "Kestrel stops listening");
            Assert.True(stopping.Elapsed >= drain, $"Kestrel stopped listening {stopping.Elapsed} after SIGTERM, before the drain of {drain} was over");
            held.Release.SetResult();
            using var heldResponse = await heldAnswer;
            var batch = await heldResponse.ExpectAsync(200);
            Assert.Equal(2, batch.GetProperty("accepted").GetInt32());

            Assert.Equal(0, await silo.ExitCodeAsync(ct).WaitAsync(drain + StopBound, ct));
            Assert.True(stopping.Elapsed < drain + StopBound, $"The silo exited {stopping.Elapsed} after SIGTERM, later than its drain and {StopBound}");
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{clients.Sum(c => c.Answered)} requests answered, {clients.Sum(c => c.AnsweredWithClose)} with Connection: close; exited {stopping.Elapsed} after SIGTERM.");
            Assert.True(failures.IsEmpty, $"Requests sent to the stopping silo without an answer:\n{string.Join("\n", failures)}");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<HttpStatusCode> ReadyStatusAsync(HttpClient http, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(HealthApi.ReadyPath, ct);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0; // no answer: the silo no longer listens
        }
    }

    private static async Task<bool> ListeningAsync(Uri address)
    {
        using var socket = new TcpClient();
        try
        {
            await socket.ConnectAsync(address.Host, address.Port);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }

    /// <summary>
    /// One client with its own connection pool: its messages go one after another over a kept-alive connection, and
    /// every request it sends must be answered (a request failing after it was sent goes to <c>failures</c>).
    /// </summary>
    private sealed class KeepAliveClient(SiloProcess silo, string site, ConcurrentQueue<string> failures) : IDisposable
    {
        private readonly HttpClient _http = silo.CreateClient();
        private readonly string _patient = NewPatientId();
        private int _answered;
        private int _answeredWithClose;

        public int Answered => Volatile.Read(ref _answered);

        /// <summary>Answers that closed their connection (<c>Connection: close</c>).</summary>
        public int AnsweredWithClose => Volatile.Read(ref _answeredWithClose);

        public async Task SendWhileAsync(Func<bool> inRotation, CancellationToken ct)
        {
            while (inRotation() && await SendOnceAsync(ct))
            {
            }
        }

        /// <summary>Sends one message; true when it was acknowledged.</summary>
        public async Task<bool> SendOnceAsync(CancellationToken ct)
        {
            try
            {
                using var response = await _http.PostAsync("/api/clinical/data", Json(Vitals(_patient, site)), ct);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                    return false;
                }

                if (response.Headers.ConnectionClose == true)
                {
                    Interlocked.Increment(ref _answeredWithClose);
                }

                Interlocked.Increment(ref _answered);
                return true;
            }
            catch (HttpRequestException e)
            {
                failures.Enqueue($"{e.HttpRequestError}: {e.Message}");
                return false;
            }
        }

        public void Dispose() => _http.Dispose();
    }

    /// <summary>
    /// A JSON body sent in two parts, split between two tokens: the first at once, the second when <see cref="Release"/>
    /// is set. In between it sends whitespace (valid between JSON tokens) ten times a second, so Kestrel's minimum body
    /// data rate (240 bytes/s after 5 s) does not end the request while it waits.
    /// </summary>
    private sealed class HeldBody : HttpContent
    {
        private readonly byte[] _first;
        private readonly byte[] _second;

        public HeldBody(string first, string second)
        {
            _first = Encoding.UTF8.GetBytes(first);
            _second = Encoding.UTF8.GetBytes(second);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        public TaskCompletionSource FirstPartSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_first);
            await stream.FlushAsync();
            FirstPartSent.SetResult();

            var padding = Encoding.ASCII.GetBytes(new string(' ', 64));
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (!Release.Task.IsCompleted)
            {
                await Task.WhenAny(Release.Task, pace.WaitForNextTickAsync().AsTask());
                await stream.WriteAsync(padding);
                await stream.FlushAsync();
            }

            await stream.WriteAsync(_second);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
