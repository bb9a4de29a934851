using System.Net;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using Npgsql;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// PostgreSQL going away under a cluster silo, played by cutting the silo's connections to it (a proxy in front of
/// the test server): ingest answers a retriable 503 and never 202, and recovers on its own once the database returns.
/// </summary>
public sealed class ClusterOutageTests
{
    [Fact]
    public async Task Ingest_answers_503_while_PostgreSQL_is_away_and_stores_the_retries_once_it_returns()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable(TestPostgres.Variable) ?? "Host=127.0.0.1");
        await using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, admin.Port));
        await using var cluster = await PostgresCluster.StartAsync(silos: 1,
            connectTo: database => new NpgsqlConnectionStringBuilder(database) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3 }.ConnectionString);
        using var http = cluster.Silos[0].CreateClient();
        var known = NewPatientId();
        await (await http.PostAsync("/api/clinical/data", Json(Vitals(known)), ct)).ExpectAsync(202);

        await proxy.CutAsync();
        var during = new[] { Vitals(known), Vitals(NewPatientId()) };
        foreach (var message in during)
        {
            var problem = await (await http.PostAsync("/api/clinical/data", Json(message), ct)).ExpectAsync(503);
            Assert.Contains("Retry", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var batch = await (await http.PostAsync("/api/clinical/data/batch", Json(new JsonArray(Vitals(known), Vitals(NewPatientId()))), ct)).ExpectAsync(503);
        Assert.Equal(503, batch.GetProperty("status").GetInt32());

        proxy.Restore();
        foreach (var message in during)
        {
            var retried = await Eventually.UntilAsync(async () =>
            {
                using var response = await http.PostAsync("/api/clinical/data", Json(message), ct);
                return response.StatusCode == HttpStatusCode.ServiceUnavailable ? null : response;
            }, TimeSpan.FromSeconds(60), "ingest recovers after PostgreSQL returns");
            Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
            // A read may still meet a pooled connection the outage broke: that is a retriable 503 too, and the client retries.
            var read = await Eventually.UntilAsync(async () =>
            {
                var response = await http.GetAsync($"/api/clinical/messages/{IdOf(message)}", ct);
                return response.StatusCode == HttpStatusCode.ServiceUnavailable ? null : response;
            }, TimeSpan.FromSeconds(60), "reads recover after PostgreSQL returns");
            var trace = await read.ExpectAsync(200);
            Assert.Equal("accepted", trace.GetProperty("status").GetString());
        }
    }
}
