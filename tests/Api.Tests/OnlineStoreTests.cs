using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Features;
using StackExchange.Redis;

namespace ClinicalTrials.Api.Tests;

/// <summary>The online feature store against a real Redis: hashes written per update, and a Redis outage survived.</summary>
public sealed class OnlineStoreTests : IDisposable
{
    /// <summary>Eventual writes are polled up to this long; the store writes within milliseconds when Redis is up.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long one accepted message may take while Redis is down: no longer than when it is up, with room for a busy machine.</summary>
    private static readonly TimeSpan IngestBound = TimeSpan.FromSeconds(2);

    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static Task<ClinicalApp> StartAppAsync(string dataDirectory, string redis) =>
        ClinicalApp.StartAsync(dataDirectory, new Dictionary<string, string> { ["ConnectionStrings:Redis"] = redis });

    [Fact]
    public async Task Each_update_writes_the_vector_to_a_redis_hash_with_a_48_hour_ttl()
    {
        var redis = TestRedis.RequireConnectionString();
        await using var client = await TestRedis.ConnectAsync(redis);
        var database = client.GetDatabase();
        await using var app = await StartAppAsync(_data.Path, redis);
        var patient = NewPatientId();
        var key = new RedisKey($"patient:{patient}:features");

        await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals(patient, heartRate: 72)), Cancel)).ExpectAsync(202);
        var hash = await HashWithAsync(database, key, "heart_rate_last", "72");

        Assert.Equal(FeatureCatalogue.Names.Concat(["as_of", "updated_at", "feature_version"]).Order(), hash.Keys.Order());
        Assert.Equal(FeatureCatalogue.Version, hash["feature_version"]);
        Assert.InRange(await database.KeyTimeToLiveAsync(key) ?? TimeSpan.Zero, TimeSpan.FromHours(47), TimeSpan.FromHours(48));

        await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals(patient, heartRate: 118)), Cancel)).ExpectAsync(202);
        hash = await HashWithAsync(database, key, "heart_rate_last", "118");

        // The hash holds what the API serves, missing values as "NaN".
        var served = await (await app.Http.GetAsync($"/api/patients/{patient}/features", Cancel)).ExpectAsync(200);
        Assert.Equal(served.GetProperty("as_of").GetDateTimeOffset(), DateTimeOffset.Parse(hash["as_of"], CultureInfo.InvariantCulture));
        foreach (var feature in served.GetProperty("features").EnumerateObject())
        {
            var expected = feature.Value.ValueKind == JsonValueKind.Null ? double.NaN : feature.Value.GetDouble();
            Assert.Equal(expected, double.Parse(hash[feature.Name], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Ingestion_goes_on_while_redis_is_down_and_the_store_catches_up_when_it_returns()
    {
        TestRedis.RequireConnectionString();
        var port = FreePorts.Next();
        await using var first = await RedisServerProcess.StartAsync(port);
        await using var app = await StartAppAsync(_data.Path, first.ConnectionString);
        var (before, during) = (NewPatientId(), NewPatientId());
        await (await app.Http.PostAsync("/api/clinical/data", Json(Vitals(before, heartRate: 70)), Cancel)).ExpectAsync(202);
        await using (var client = await TestRedis.ConnectAsync(first.ConnectionString))
        {
            await HashWithAsync(client.GetDatabase(), $"patient:{before}:features", "heart_rate_last", "70");
        }

        await first.KillAsync();
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        for (var heartRate = 80; heartRate <= 120; heartRate += 10)
        {
            var clock = Stopwatch.StartNew();
            var vitals = Vitals(during, heartRate: heartRate, at: at.AddMinutes(heartRate - 80));
            await (await app.Http.PostAsync("/api/clinical/data", Json(vitals), Cancel)).ExpectAsync(202);
            Assert.True(clock.Elapsed < IngestBound, $"An accepted message took {clock.Elapsed.TotalMilliseconds:F0} ms while Redis was down.");
        }

        var degraded = await OnlineStoreStatusAsync(app, "degraded");
        Assert.Equal("degraded", degraded.GetProperty("status").GetString());

        await using var second = await RedisServerProcess.StartAsync(port);
        await using var restarted = await TestRedis.ConnectAsync(second.ConnectionString);

        // The restarted server is empty: the hash appears only because the store wrote the waiting vector.
        var hash = await HashWithAsync(restarted.GetDatabase(), $"patient:{during}:features", "heart_rate_last", "120");
        Assert.Equal("5", hash["heart_rate_count_24h"]);
        await OnlineStoreStatusAsync(app, "healthy");
    }

    /// <summary>Waits until the patient's hash has <paramref name="field"/> = <paramref name="value"/>; returns the whole hash.</summary>
    private static Task<Dictionary<string, string>> HashWithAsync(IDatabase database, RedisKey key, string field, string value) =>
        Eventually.UntilAsync(
            async () =>
            {
                var hash = (await database.HashGetAllAsync(key)).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
                return hash.GetValueOrDefault(field) == value ? hash : null;
            },
            WriteTimeout,
            $"{key} with {field} = {value}");

    /// <summary>Waits until health reports the online store as <paramref name="status"/>; returns the whole report.</summary>
    private static async Task<JsonElement> OnlineStoreStatusAsync(ClinicalApp app, string status)
    {
        var report = await Eventually.UntilAsync<JsonDocument>(
            async () =>
            {
                using var response = await app.Http.GetAsync("/api/clinical/health", Cancel);
                var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
                return health.RootElement.GetProperty("components").GetProperty("online_store").GetProperty("status").GetString() == status ? health : null;
            },
            WriteTimeout,
            $"online_store {status}");
        return report.RootElement;
    }
}
