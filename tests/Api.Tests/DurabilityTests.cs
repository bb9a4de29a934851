using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>What the API acknowledges has survived the process: the silo is killed with SIGKILL mid-traffic.</summary>
public sealed class DurabilityTests
{
    private const int Acknowledgements = 400;
    private const int Workers = 8;

    [Fact]
    public async Task Acknowledged_messages_survive_kill_9()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        var patients = Enumerable.Range(0, 30).Select(_ => NewPatientId()).ToArray();
        var sites = Enumerable.Range(0, 4).Select(_ => NewSiteId()).ToArray();
        var acknowledged = new ConcurrentDictionary<Guid, string>();
        var unexpected = new ConcurrentBag<string>();
        var killed = 0;
        var inFlight = 0;

        await using (var silo = await SiloProcess.StartAsync(data.Path, cancellation))
        {
            using var http = silo.CreateClient();
            var workers = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
            {
                var random = new Random(worker);
                while (Volatile.Read(ref killed) == 0)
                {
                    var batch = Enumerable.Range(0, random.Next(3) == 0 ? random.Next(2, 25) : 1)
                        .Select(_ => Vitals(patients[random.Next(patients.Length)], sites[random.Next(sites.Length)], random.Next(50, 120)))
                        .ToList();
                    try
                    {
                        await SendAsync(http, batch, acknowledged, unexpected);
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && Volatile.Read(ref killed) == 1)
                    {
                        // In flight when the process died: not acknowledged, so nothing is promised.
                        Interlocked.Increment(ref inFlight);
                        return;
                    }

                    if (acknowledged.Count >= Acknowledgements && Interlocked.Exchange(ref killed, 1) == 0)
                    {
                        silo.Kill();
                    }
                }
            })).ToArray();

            await Task.WhenAll(workers);
            await silo.WaitForExitAsync(cancellation);
            Assert.Empty(unexpected);
        }

        var promised = acknowledged.ToArray();
        TestContext.Current.TestOutputHelper?.WriteLine($"{promised.Length} acknowledged; {inFlight} requests were in flight at the kill.");
        Assert.True(promised.Length >= Acknowledgements);

        await using var restarted = await SiloProcess.StartAsync(data.Path, cancellation);
        using var client = restarted.CreateClient();

        var missing = new ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(promised, new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = cancellation }, async (ack, ct) =>
        {
            using var response = await client.GetAsync($"/api/clinical/messages/{ack.Key}", ct);
            if (response.StatusCode != HttpStatusCode.OK
                || (await response.ReadJsonAsync()).GetProperty("status").GetString() != "accepted")
            {
                missing.Add(ack.Key);
            }
        });
        Assert.True(missing.IsEmpty, $"{missing.Count} of {promised.Length} acknowledged messages are gone, e.g. {missing.FirstOrDefault()}.\n{restarted.Output}");

        var stats = await (await client.GetAsync("/api/clinical/stats", cancellation)).ExpectAsync(200);
        Assert.True(stats.GetProperty("accepted").GetInt64() >= promised.Length);

        foreach (var (patient, count) in promised.GroupBy(a => a.Value).Select(g => (g.Key, g.Count())))
        {
            var summary = await (await client.GetAsync($"/api/patients/{patient}", cancellation)).ExpectAsync(200);
            var stored = summary.GetProperty("message_counts").EnumerateObject().Sum(c => c.Value.GetInt32());
            Assert.True(stored >= count, $"Patient {patient}: {count} messages acknowledged, {stored} in the patient's state.");
        }
    }

    /// <summary>One message to the single endpoint, or several to the batch endpoint; records what was acknowledged.</summary>
    private static async Task SendAsync(HttpClient http, List<JsonObject> messages, ConcurrentDictionary<Guid, string> acknowledged, ConcurrentBag<string> unexpected)
    {
        string PatientOf(JsonObject m) => (string)m["vital_signs"]!["patient_id"]!;

        if (messages.Count == 1)
        {
            using var response = await http.PostAsync("/api/clinical/data", Json(messages[0]));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Accepted && JsonDocument.Parse(body).RootElement.GetProperty("status").GetString() == "accepted")
            {
                acknowledged[IdOf(messages[0])] = PatientOf(messages[0]);
            }
            else
            {
                unexpected.Add($"{(int)response.StatusCode}: {body}");
            }

            return;
        }

        using var batchResponse = await http.PostAsync("/api/clinical/data/batch", Json(new JsonArray(messages.ToArray<JsonNode>())));
        var batchBody = await batchResponse.Content.ReadAsStringAsync();
        if (batchResponse.StatusCode != HttpStatusCode.OK)
        {
            unexpected.Add($"{(int)batchResponse.StatusCode}: {batchBody}");
            return;
        }

        foreach (var result in JsonDocument.Parse(batchBody).RootElement.GetProperty("results").EnumerateArray())
        {
            var message = messages[result.GetProperty("index").GetInt32()];
            if (result.GetProperty("status").GetString() == "accepted")
            {
                acknowledged[IdOf(message)] = PatientOf(message);
            }
            else
            {
                unexpected.Add(result.ToString());
            }
        }
    }
}
