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
