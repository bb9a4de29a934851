using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using Npgsql;

namespace ClinicalTrials.Api.Tests;

/// <summary>Three silo processes in the cluster profile on one PostgreSQL database (docs/cluster.md).</summary>
public sealed class ThreeSiloCluster : IAsyncLifetime
{
    internal PostgresCluster Cluster { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Cluster = await PostgresCluster.StartAsync(silos: 3);

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// "202 means durable" across a cluster: any silo answers, a message is stored once whichever silos it is sent to, and
/// what was acknowledged survives <c>kill -9</c> of the silo that acknowledged it and of the silo its patient lived on.
/// </summary>
public sealed class ClusterTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    private readonly PostgresCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task Every_silo_answers_and_each_dashboard_shows_the_whole_cluster()
    {
        foreach (var silo in _cluster.Silos)
        {
            using var http = silo.CreateClient();
            var silos = await DashboardTests.ActiveSilosAsync(http, expected: 3);
            Assert.Equal(3, silos.Select(s => s.GetProperty("siloAddress").GetString()).Distinct().Count());
        }
    }

    [Fact]
    public async Task A_pipeline_job_run_through_one_silo_is_listed_by_every_silo()
    {
        var ct = TestContext.Current.CancellationToken;
        using var first = _cluster.Silos[0].CreateClient();

        // Its progress and runs are in the cluster database, not in the data directory of the silo that ran it.
        var run = await (await first.PostAsync("/api/pipeline/jobs/bronze-to-silver/run", null, ct)).ExpectAsync(200);

        Assert.Equal("succeeded", run.GetProperty("status").GetString());
        foreach (var silo in _cluster.Silos)
        {
            using var http = silo.CreateClient();
            var jobs = await (await http.GetAsync("/api/pipeline/jobs", ct)).ExpectAsync(200);
            var runs = jobs.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "bronze-to-silver").GetProperty("runs");
            Assert.Contains(run.GetProperty("id").GetInt64(), runs.EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        }
    }

    [Fact]
    public async Task The_same_message_sent_to_two_silos_at_once_is_stored_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var site = NewSiteId();
        using var first = _cluster.Silos[0].CreateClient();
        using var second = _cluster.Silos[1].CreateClient();
        const int Messages = 20;

        for (var i = 0; i < Messages; i++)
        {
            var body = Vitals(NewPatientId(), site).ToJsonString();
            var answers = await Task.WhenAll(first.PostAsync("/api/clinical/data", Json(body), ct), second.PostAsync("/api/clinical/data", Json(body), ct));

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Accepted], answers.Select(a => a.StatusCode).Order());
        }

        var stats = await (await first.GetAsync("/api/clinical/stats", ct)).ExpectAsync(200);
        var bySite = stats.GetProperty("by_site").GetProperty(site);
        Assert.Equal((Messages, Messages), (bySite.GetProperty("accepted").GetInt64(), bySite.GetProperty("duplicates").GetInt64()));
    }

    [Fact]
    public async Task Patients_sent_through_different_silos_are_listed_alike_by_every_silo()
    {
        var ct = TestContext.Current.CancellationToken;
        var site = NewSiteId();
        var patients = Enumerable.Range(0, 6).Select(_ => NewPatientId()).ToList();
        for (var i = 0; i < patients.Count; i++)
        {
            using var sender = _cluster.Silos[i % _cluster.Silos.Count].CreateClient();
            await (await sender.PostAsync("/api/clinical/data", Json(Vitals(patients[i], site)), ct)).ExpectAsync(202);
        }

        // The list is read from the shared journal, not from the memory of the silo that stored a patient's messages.
        foreach (var silo in _cluster.Silos)
        {
            using var http = silo.CreateClient();
            var page = await (await http.GetAsync($"/api/patients?site_id={site}&limit=1000", ct)).ExpectAsync(200);
            Assert.Equal(patients.Order(StringComparer.Ordinal), page.GetProperty("patients").EnumerateArray().Select(p => p.GetProperty("patient_id").GetString()));
            var sites = await (await http.GetAsync("/api/sites", ct)).ExpectAsync(200);
            var entry = sites.EnumerateArray().Single(s => s.GetProperty("site_id").GetString() == site);
            Assert.Equal((6L, 6L), (entry.GetProperty("patients").GetInt64(), entry.GetProperty("messages").GetProperty("accepted").GetInt64()));
        }
    }

    [Fact]
    public async Task The_pipeline_schedule_is_registered_once_whichever_silos_start()
    {
        // Every silo starts the scheduler at its own start (three here, more after the restart tests): the reminders
        // are written once, not moved back by each start.
        await using var connection = new NpgsqlConnection(_cluster.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT ReminderName, Version FROM OrleansRemindersTable ORDER BY ReminderName", connection);
        var reminders = new List<(string Name, int Version)>();
        await using (var row = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await row.ReadAsync(TestContext.Current.CancellationToken))
            {
                reminders.Add((row.GetString(0), row.GetInt32(1)));
            }
        }

        // The pipeline's jobs and the model monitor (docs/monitoring.md) each have one reminder.
        Assert.Equal(["job:bronze-to-silver", "job:offline-features", "job:retention", "model-monitoring"], reminders.Select(r => r.Name));
        Assert.All(reminders, r => Assert.Equal(0, r.Version));
    }

    [Fact]
    public async Task Acknowledged_messages_survive_kill_9_of_one_silo_after_another_under_load()
    {
        // Kill each silo in turn while all three take load; the next dies only once the last has rejoined.
        var load = await RestartEachSiloUnderLoadAsync(silo =>
        {
            silo.Kill();
            return Task.CompletedTask;
        });

        Assert.True(load.Unexpected.IsEmpty, $"Answers other than 2xx and retriable 503s: {string.Join("\n", load.Unexpected.Take(5))}");
        await load.VerifyAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_rolling_restart_under_load_answers_no_request_with_an_error_and_loses_nothing()
    {
        // Each silo is stopped as a service manager stops it (SIGTERM), and started again before the next one stops.
        var load = await RestartEachSiloUnderLoadAsync(async silo => Assert.Equal(0, await silo.StopAsync(TestContext.Current.CancellationToken)));

        Assert.True(load.Unexpected.IsEmpty, $"Answers other than 2xx and retriable 503s: {string.Join("\n", load.Unexpected.Take(5))}");
        // A silo that stops gracefully hands its grains over: no request is answered with an error. These clients send
        // to every silo whatever its /health/ready says (no load balancer): a connection made just as a silo stops
        // listening, after its drain, can still be closed unanswered (load.Broken); behind a balancer the drain leaves
        // none (ShutdownDrainTests). Those requests are sent again like any other and, as VerifyAsync checks, stored once.
        Assert.Equal(0, load.Unavailable);
        await load.VerifyAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Six clients send to all silos while each silo in turn is ended by <paramref name="end"/> and started again on its
    /// ports, once 150 more messages were acknowledged since the last restart; the load stops 150 messages after the last.
    /// </summary>
    private async Task<ClusterLoad> RestartEachSiloUnderLoadAsync(Func<SiloProcess, Task> end)
    {
        var ct = TestContext.Current.CancellationToken;
        var load = new ClusterLoad(_cluster, NewSiteId(), patients: 40);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var senders = Enumerable.Range(0, 6).Select(client => load.SendUntilAsync(client, stop.Token)).ToArray();
        for (var silo = 0; silo < _cluster.Silos.Count; silo++)
        {
            await load.WaitForAcknowledgementsAsync(load.Acknowledged + 150);
            await end(_cluster.Silos[silo]);
            _cluster.Silos[silo] = await _cluster.Silos[silo].RestartAsync(ct);
        }

        await load.WaitForAcknowledgementsAsync(load.Acknowledged + 150);
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{load.Acknowledged} messages acknowledged; {load.Retries} sends repeated, {load.Unavailable} answered 503, {load.Broken} never answered.");
        return load;
    }

    /// <summary>
    /// Clients sending single messages and batches to every silo in turn. Each message is sent until it is acknowledged
    /// (<c>accepted</c>, or <c>duplicate</c> when an earlier try was stored although its answer was lost), moving to
    /// the next silo after a 503 or a broken connection, as a client behind a load balancer does.
    /// </summary>
    private sealed class ClusterLoad(PostgresCluster cluster, string site, int patients)
    {
        private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);
        private readonly string[] _patients = Enumerable.Range(0, patients).Select(_ => NewPatientId()).ToArray();
        private readonly ConcurrentDictionary<Guid, JsonObject> _acknowledged = new();
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private int _retries;
        private int _unavailable;
        private int _broken;

        public ConcurrentQueue<string> Unexpected { get; } = new();

        public int Acknowledged => _acknowledged.Count;

        /// <summary>Sends that had to be repeated: a 503, a broken connection or a silo not yet listening.</summary>
        public int Retries => _retries;

        /// <summary>Answers that were 503.</summary>
        public int Unavailable => _unavailable;

        /// <summary>Requests that a silo took and never answered (it died with them).</summary>
        public int Broken => _broken;

        public async Task SendUntilAsync(int client, CancellationToken stop)
        {
            var random = new Random(client);
            var silo = client;
            while (!stop.IsCancellationRequested)
            {
                var messages = Enumerable.Range(0, random.Next(2) == 0 ? 1 : 10).Select(_ => Message(random)).ToList();
                var deadline = DateTimeOffset.UtcNow + GiveUpAfter;
                while (messages.Count > 0)
                {
                    if (DateTimeOffset.UtcNow > deadline)
                    {
                        Unexpected.Enqueue($"{messages.Count} messages were not acknowledged within {GiveUpAfter.TotalSeconds} s");
                        return;
                    }

                    using var http = cluster.Silos[silo++ % cluster.Silos.Count].CreateClient();
                    messages = await SendAsync(http, messages);
                    if (messages.Count > 0)
                    {
                        Interlocked.Increment(ref _retries);
                    }
                }
            }
        }

        public async Task WaitForAcknowledgementsAsync(int count) =>
            await Eventually.UntilAsync(() => Task.FromResult(Acknowledged >= count || !Unexpected.IsEmpty ? "" : null),
                TimeSpan.FromSeconds(120), $"{count} messages acknowledged");

        /// <summary>Every acknowledged message is stored, none twice, and every patient's features equal the replay of theirs.</summary>
        public async Task VerifyAsync(CancellationToken ct)
        {
            using var http = cluster.Silos[^1].CreateClient();
            var missing = new ConcurrentBag<Guid>();
            await Parallel.ForEachAsync(_acknowledged.Keys, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (id, token) =>
            {
                using var response = await http.GetAsync($"/api/clinical/messages/{id}", token);
                if (response.StatusCode != HttpStatusCode.OK || (await response.ReadJsonAsync()).GetProperty("status").GetString() != "accepted")
                {
                    missing.Add(id);
                }
            });
            Assert.True(missing.IsEmpty, $"{missing.Count} of {_acknowledged.Count} acknowledged messages are not stored, e.g. {missing.FirstOrDefault()}");

            var stats = await (await http.GetAsync("/api/clinical/stats", ct)).ExpectAsync(200);
            Assert.Equal(_acknowledged.Count, stats.GetProperty("by_site").GetProperty(site).GetProperty("accepted").GetInt64());

            foreach (var history in _acknowledged.Values.GroupBy(m => (string)m["vital_signs"]!["patient_id"]!))
            {
                var summary = await (await http.GetAsync($"/api/patients/{history.Key}", ct)).ExpectAsync(200);
                Assert.Equal(history.Count(), summary.GetProperty("message_counts").EnumerateObject().Sum(c => c.Value.GetInt32()));

                var online = await (await http.GetAsync($"/api/patients/{history.Key}/features", ct)).ExpectAsync(200);
                var replayed = FeatureReplay.VectorAt(history.Select(Parsed), online.GetProperty("as_of").GetDateTimeOffset());
                var features = online.GetProperty("features");
                var different = FeatureCatalogue.Names.Where((name, i) => !SameValue(features.GetProperty(name), replayed.Values[i])).ToList();
                Assert.True(different.Count == 0, $"Patient {history.Key}: {different.Count} features differ from the replay, e.g. {different.FirstOrDefault()}");
            }
        }

        private JsonObject Message(Random random) => Vitals(
            _patients[random.Next(_patients.Length)], site, heartRate: random.Next(45, 160),
            at: _start.AddMinutes(-random.Next(1, 600)).AddSeconds(-random.Next(60)));

        /// <summary>Sends the messages once; returns those still to be acknowledged.</summary>
        private async Task<List<JsonObject>> SendAsync(HttpClient http, List<JsonObject> messages)
        {
            HttpResponseMessage response;
            try
            {
                response = messages.Count == 1
                    ? await http.PostAsync("/api/clinical/data", Json(messages[0]))
                    : await http.PostAsync("/api/clinical/data/batch", Json(new JsonArray([.. messages.Select(m => m.DeepClone())])));
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                // No connection was made (refused, or reset by a listener closing): the request was never sent, and a
                // load balancer sends it elsewhere.
                return messages;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref _broken);
                TestContext.Current.TestOutputHelper?.WriteLine($"Never answered: {e.GetType().Name}: {e.Message}");
                return messages; // the silo died with the request: its outcome is unknown
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
                {
                    Unexpected.Enqueue($"{(int)response.StatusCode}: {body}");
                    return [];
                }

                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref _unavailable);
                }

                var json = JsonDocument.Parse(body).RootElement;
                if (messages.Count == 1)
                {
                    return response.StatusCode == HttpStatusCode.ServiceUnavailable ? messages : Acknowledge(messages, [json]);
                }

                // A 503 on a batch names each message's status when the batch was judged; without results none was.
                return json.TryGetProperty("results", out var results) ? Acknowledge(messages, [.. results.EnumerateArray()]) : messages;
            }
        }

        private List<JsonObject> Acknowledge(List<JsonObject> messages, JsonElement[] answers)
        {
            var pending = new List<JsonObject>();
            for (var i = 0; i < messages.Count; i++)
            {
                switch (answers[i].GetProperty("status").GetString())
                {
                    case "accepted" or "duplicate":
                        _acknowledged[IdOf(messages[i])] = messages[i];
                        break;
                    case "unavailable":
                        pending.Add(messages[i]);
                        break;
                    default:
                        Unexpected.Enqueue(answers[i].ToString());
                        break;
                }
            }

            return pending;
        }

        private static ClinicalMessage Parsed(JsonObject message) =>
            ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(message.ToJsonString()), DateTimeOffset.UtcNow).Message!;

        private static bool SameValue(JsonElement online, double replayed) =>
            online.ValueKind == JsonValueKind.Null ? !double.IsFinite(replayed) : online.GetDouble() == replayed;
    }
}
