using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using ClinicalTrials.Api.Fhir;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Journal;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Task = System.Threading.Tasks.Task;

namespace ClinicalTrials.Api.Tests;

/// <summary>The EMR update: accepted lab results reach a FHIR endpoint once each, across failures and a restart.</summary>
public sealed class EmrOutboxTests : IAsyncLifetime
{
    private readonly FhirEndpoint _emr = new();
    private readonly DataDirectory _data = new();

    public async ValueTask InitializeAsync() => await _emr.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _emr.DisposeAsync();
        _data.Dispose();
    }

    private Task<ClinicalApp> StartAppAsync() => ClinicalApp.StartAsync(_data.Path, new Dictionary<string, string>
    {
        ["Emr:FhirEndpoint"] = _emr.BaseUrl,
        ["Emr:PollInterval"] = "00:00:00.100",
        ["Emr:InitialBackoff"] = "00:00:00.050",
        ["Emr:MaxBackoff"] = "00:00:00.200",
    });

    private static JsonObject LabPanel(string patient, params (string Code, double Value, string Unit)[] results) => new()
    {
        ["message_id"] = Guid.NewGuid().ToString(),
        ["timestamp"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToString("O"),
        ["study_phase"] = "Phase II",
        ["site_id"] = "SITE001",
        ["lab_results"] = new JsonObject
        {
            ["patient_id"] = patient,
            ["results"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject { ["test_code"] = r.Code, ["value"] = r.Value, ["unit"] = r.Unit })]),
        },
    };

    [Fact]
    public async Task Every_accepted_lab_result_reaches_the_emr_once_across_failures_and_a_restart()
    {
        _emr.FailNext(3); // the first deliveries meet a failing EMR and are retried
        var patient = NewPatientId();
        await using (var app = await StartAppAsync())
        {
            await (await app.Http.PostAsync("/api/clinical/data", Json(LabPanel(patient, ("GLUC", 5.5, "mmol/L"), ("CREAT", 88.42, "umol/L"))), TestContext.Current.CancellationToken)).ExpectAsync(202);
            await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals(patient)), TestContext.Current.CancellationToken)).ExpectAsync(202); // not a lab: not sent
            await (await app.Http.PostAsync("/api/clinical/data", Json(LabPanel(patient, ("NOSUCH", 2, "mg/dL"))), TestContext.Current.CancellationToken)).ExpectAsync(202);
            await Eventually.UntilAsync(() => Task.FromResult(_emr.Stored.Count == 3 ? "" : null), TimeSpan.FromSeconds(30), "3 results at the EMR");
        }

        await using (var app = await StartAppAsync())
        {
            await (await app.Http.PostAsync("/api/clinical/data", Json(LabPanel(patient, ("K", 4.2, "mmol/L"))), TestContext.Current.CancellationToken)).ExpectAsync(202);
            await Eventually.UntilAsync(() => Task.FromResult(_emr.Stored.Count == 4 ? "" : null), TimeSpan.FromSeconds(30), "4 results at the EMR");
        }

        Assert.Empty(_emr.Invalid);
        Assert.Equal(3, _emr.Failed);
        // The restart did not resend what had been delivered: one POST the EMR took per result.
        Assert.All(_emr.Posts, p => Assert.Equal(1, p.Value));
        var glucose = _emr.Stored.Values.Single(o => o.Code.Coding.Any(c => c.Code == "2345-7"));
        Assert.Equal(99.088m, Assert.IsType<Quantity>(glucose.Value).Value);
        Assert.Equal(5.5m, Assert.IsType<Quantity>(glucose.Extension.Single().Value).Value);
        Assert.Equal($"Patient/{patient}", glucose.Subject!.Reference);

        using var audit = new SqliteConnection($"Data Source={Path.Combine(_data.Path, "emr-outbox.db")};Mode=ReadOnly;Pooling=False");
        audit.Open();
        using var command = audit.CreateCommand();
        command.CommandText = "SELECT outcome, count(*), sum(attempts) FROM deliveries GROUP BY outcome";
        using var row = command.ExecuteReader();
        Assert.True(row.Read());
        Assert.Equal(("created", 4L, 7L), (row.GetString(0), row.GetInt64(1), row.GetInt64(2)));
        Assert.False(row.Read());
    }

    [Fact]
    public async Task In_a_cluster_one_silo_delivers_and_another_takes_over_when_it_dies()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await PostgresCluster.StartAsync(silos: 2, connectTo: null,
            $"--Emr:FhirEndpoint={_emr.BaseUrl}", "--Emr:PollInterval=00:00:00.100", "--Emr:InitialBackoff=00:00:00.050", "--Emr:MaxBackoff=00:00:00.200");
        var clients = cluster.Silos.Select(s => s.CreateClient()).ToArray();
        // Panels through both silos at once: the journal's rows come from both writers' transactions, interleaved.
        // A silo killed a moment ago can still own grains until the cluster declares it dead: ingest then answers a
        // retriable 503, and the client retries as it would.
        async Task SendAsync(int panels, params HttpClient[] through) => await Task.WhenAll(Enumerable.Range(0, panels).Select(async i =>
        {
            var panel = LabPanel(NewPatientId(), ("GLUC", 5.5 + i, "mmol/L"), ("K", 4.2, "mmol/L"));
            var answer = await Eventually.UntilAsync(async () =>
            {
                var response = await through[i % through.Length].PostAsync("/api/clinical/data", Json(panel), ct);
                return response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable ? null : response;
            }, TimeSpan.FromSeconds(60), "the panel is stored");
            Assert.True(answer.IsSuccessStatusCode, $"HTTP {(int)answer.StatusCode}");
        }));

        await SendAsync(10, clients);
        await DeliveriesAsync(cluster, 20);
        var sender = await SenderAsync(cluster);
        var dying = Assert.Single(cluster.Silos, s => s.ProcessId == sender);
        var survivor = Assert.Single(cluster.Silos, s => s.ProcessId != sender);

        dying.Kill();
        await SendAsync(5, survivor.CreateClient());
        var deliveries = await DeliveriesAsync(cluster, 30);

        Assert.Equal(survivor.ProcessId, await SenderAsync(cluster));
        Assert.Empty(_emr.Invalid);
        Assert.Equal(30, _emr.Stored.Count);
        // Nothing was sent twice: every delivery the dead silo made was recorded before it died.
        Assert.All(_emr.Posts, p => Assert.Equal(1, p.Value));
        Assert.Equal([(sender, "created", 20), (survivor.ProcessId, "created", 10)], deliveries);
    }

    [Fact]
    public async Task The_cluster_outbox_skips_no_lab_message_whose_transaction_commits_after_a_later_sequence()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        await ClusterSchema.MigrateAsync(postgres.DataSource, ct);
        await using var journal = new PostgresJournal(postgres.DataSource, "silo-a", 256, NullLogger<PostgresJournal>.Instance);
        await using var store = new PostgresEmrOutboxStore(postgres.ConnectionString, TimeSpan.FromMilliseconds(50), TimeProvider.System);
        await store.WaitForTurnAsync(ct);
        async Task<long> AppendLabAsync()
        {
            var patient = NewPatientId();
            var raw = System.Text.Encoding.UTF8.GetBytes(LabPanel(patient, ("K", 4.2, "mmol/L")).ToJsonString());
            var entry = new JournalEntry(Guid.NewGuid(), DateTimeOffset.UtcNow, patient, "SITE001", PayloadType.LabResults, DateTimeOffset.UtcNow, raw, [], 0);
            return (await journal.AppendAsync([entry]))[0].Sequence;
        }

        async Task<long[]> DeliverNextAsync()
        {
            var batch = await store.NextAsync(10, ct);
            foreach (var message in batch)
            {
                await store.RecordAsync(message, [], ct);
            }

            return [.. batch.Select(m => m.Sequence)];
        }

        var first = await AppendLabAsync();
        // A commit that takes its sequence now and ends last, as another silo's slow commit does.
        await using var slow = await postgres.DataSource.OpenConnectionAsync(ct);
        await using var slowCommit = await slow.BeginTransactionAsync(ct);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO journal_messages (message_id, status, patient_id, site_id, payload_type, received_at, location, line)
            SELECT gen_random_uuid(), status, patient_id, site_id, payload_type, received_at, location, line FROM journal_messages WHERE sequence = $1
            RETURNING sequence
            """, slow, slowCommit) { Parameters = { new() { Value = first } } };
        var slowSequence = (long)(await insert.ExecuteScalarAsync(ct))!;
        var later = await AppendLabAsync();
        Assert.True(slowSequence < later);

        // While that commit runs, the later sequence, although visible, is not delivered: the position must not pass the
        // earlier one. (The horizon is the whole server's, so another test's open transaction can hold a row back for a
        // moment: what must come is waited for.)
        Assert.Equal([first], await DeliveredUntilAsync(1));
        Assert.Empty(await DeliverNextAsync());
        Assert.Equal(1, store.HeldBack); // the later one, visible and waiting: what the outbox warns about when it lasts
        await slowCommit.CommitAsync(ct);
        Assert.Equal([slowSequence, later], await DeliveredUntilAsync(2));
        Assert.Empty(await DeliverNextAsync());
        Assert.Equal(0, store.HeldBack);

        async Task<List<long>> DeliveredUntilAsync(int count)
        {
            var delivered = new List<long>();
            await Eventually.UntilAsync(async () => { delivered.AddRange(await DeliverNextAsync()); return delivered.Count; },
                n => n >= count, TimeSpan.FromSeconds(30), $"{count} lab messages delivered");
            return delivered;
        }
    }

    /// <summary>Waits for <paramref name="count"/> audited deliveries; returns them counted by the delivering process and outcome.</summary>
    private static async Task<List<(int Sender, string Outcome, int Count)>> DeliveriesAsync(PostgresCluster cluster, int count) =>
        await Eventually.UntilAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(cluster.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT sender, outcome, count(*)::int FROM emr_deliveries GROUP BY sender, outcome ORDER BY min(id)", connection);
            await using var row = await command.ExecuteReaderAsync();
            var rows = new List<(int, string, int)>();
            while (await row.ReadAsync())
            {
                rows.Add((int.Parse(row.GetString(0).Split(':')[^1]), row.GetString(1), row.GetInt32(2)));
            }

            return rows.Sum(r => r.Item3) >= count ? rows : null;
        }, TimeSpan.FromSeconds(60), $"{count} deliveries audited");

    /// <summary>The process id of the one silo whose outbox session holds the sender's lock.</summary>
    private static async Task<int> SenderAsync(PostgresCluster cluster)
    {
        var holders = await Eventually.UntilAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(cluster.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'clinicaltrials-emr-outbox %' AND a.datname = current_database()
                """, connection);
            var names = new List<string>();
            await using var row = await command.ExecuteReaderAsync();
            while (await row.ReadAsync())
            {
                names.Add(row.GetString(0));
            }

            return names;
        }, names => names.Count == 1, TimeSpan.FromSeconds(60), "one silo holds the EMR sender's lock");
        return int.Parse(holders[0].Split(':')[^1]);
    }

    [Fact]
    public async Task A_resend_is_answered_as_existing_and_stores_nothing_twice()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Identifier = [new Identifier("urn:clinicaltrials:message-id", $"{Guid.NewGuid()}/0")],
            Code = new CodeableConcept("http://loinc.org", "2345-7"),
        };
        using var http = new HttpClient { BaseAddress = new Uri(_emr.BaseUrl + "/") };

        var first = await _emr.PostAsync(http, observation);
        var second = await _emr.PostAsync(http, observation);

        Assert.Equal((201, 200), (first, second));
        Assert.Single(_emr.Stored);
    }

    /// <summary>
    /// A FHIR endpoint for the tests: parses every Observation strictly with the Firely SDK (400 if it does not), honours
    /// a conditional create on the identifier, and can be told to fail the next requests with 503.
    /// </summary>
    private sealed class FhirEndpoint : IAsyncDisposable
    {
        private static readonly FhirJsonDeserializer Strict = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));
        private WebApplication? _app;
        private int _failNext;

        public ConcurrentDictionary<string, Observation> Stored { get; } = new();

        public ConcurrentDictionary<string, int> Posts { get; } = new();

        public ConcurrentBag<string> Invalid { get; } = [];

        public int Failed;

        public string BaseUrl { get; private set; } = "";

        public void FailNext(int count) => _failNext = count;

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            _app = builder.Build();
            _app.MapPost("/fhir/Observation", async (HttpRequest request) =>
            {
                if (Interlocked.Decrement(ref _failNext) >= 0)
                {
                    Interlocked.Increment(ref Failed);
                    return Results.StatusCode(503);
                }

                var body = await new StreamReader(request.Body).ReadToEndAsync();
                Observation observation;
                try
                {
                    observation = Strict.Deserialize<Observation>(body)!;
                }
                catch (DeserializationFailedException e)
                {
                    Invalid.Add(e.Message);
                    return Results.StatusCode(400);
                }

                var key = observation.Identifier.Single().System + "|" + observation.Identifier.Single().Value;
                if (request.Headers["If-None-Exist"].ToString() != $"identifier={key}")
                {
                    Invalid.Add($"If-None-Exist does not name the identifier {key}");
                    return Results.StatusCode(412);
                }

                Posts.AddOrUpdate(key, 1, (_, n) => n + 1);
                return Results.StatusCode(Stored.TryAdd(key, observation) ? 201 : 200);
            });
            await _app.StartAsync();
            BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/fhir";
        }

        public async Task<int> PostAsync(HttpClient http, Observation observation)
        {
            var identifier = observation.Identifier.Single();
            using var request = new HttpRequestMessage(HttpMethod.Post, "Observation") { Content = new StringContent(observation.ToJson(), System.Text.Encoding.UTF8, "application/fhir+json") };
            request.Headers.TryAddWithoutValidation("If-None-Exist", $"identifier={identifier.System}|{identifier.Value}");
            return (int)(await http.SendAsync(request)).StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }
    }
}
