using System.Net.Http.Json;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Models.Tracking;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ClinicalTrials.Api.Tests;

/// <summary>The prediction log and run tracking on both engines, and its drain on graceful shutdown.</summary>
public sealed class PredictionLogTests
{
    /// <summary>Polls the log until <paramref name="count"/> predictions of the patient are there (the writer batches off the request path).</summary>
    internal static async Task<List<JsonElement>> LoggedAsync(HttpClient http, string patient, int count)
    {
        var rows = await Eventually.UntilAsync(
            async () => await (await http.GetAsync($"/api/predictions?patient_id={patient}&limit=1000", TestContext.Current.CancellationToken)).ExpectAsync(200),
            rows => rows.GetArrayLength() >= count, TimeSpan.FromSeconds(10), $"{count} predictions of {patient} in the log");
        return [.. rows.EnumerateArray()];
    }

    [Fact]
    public async Task Graceful_shutdown_writes_every_queued_prediction()
    {
        using var data = new DataDirectory();
        const int Predictions = 300;
        TestModels.Trial trial;
        await using (var app = await ClinicalApp.StartAsync(data.Path))
        {
            trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA);
            await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
            await Task.WhenAll(Enumerable.Range(0, Predictions).Select(async i =>
                await (await app.Http.PredictAsync(trial.PatientIds[i % trial.PatientIds.Count])).ExpectAsync(200)));

            // Stop at once: whatever the writer has not written yet must be drained by the shutdown.
        }

        var store = new SqliteTrackingStore(Path.Combine(data.Path, TrackingStore.SqliteFileName));
        Assert.Equal(Predictions, (await store.ReadPredictionsAsync(null, 10_000, TestContext.Current.CancellationToken)).Count);
    }

    [Fact]
    public async Task Predictions_are_logged_to_postgres_when_configured_and_read_back()
    {
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string> { ["ConnectionStrings:Postgres"] = postgres.ConnectionString });
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA);
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        var patient = trial.PatientIds[3];
        var answer = await (await app.Http.PredictAsync(patient)).ExpectAsync(200);
        await (await app.Http.PredictAsync(patient)).ExpectAsync(200);

        var rows = await LoggedAsync(app.Http, patient, 2);

        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(answer.GetProperty("adverse_event_probability").GetDouble(), r.GetProperty("prediction_score").GetDouble(), 12));
        Assert.False(File.Exists(Path.Combine(data.Path, TrackingStore.SqliteFileName)), "With PostgreSQL configured, no SQLite log is written.");
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM predictions WHERE patient_id = @p", connection);
        count.Parameters.AddWithValue("p", patient);
        Assert.Equal(2L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        await using var indexes = new NpgsqlCommand("SELECT indexdef FROM pg_indexes WHERE tablename = 'predictions'", connection);
        var definitions = new List<string>();
        await using (var reader = await indexes.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                definitions.Add(reader.GetString(0));
            }
        }

        Assert.Contains(definitions, d => d.Contains("(patient_id, \"timestamp\")", StringComparison.Ordinal));
        Assert.Contains(definitions, d => d.EndsWith("(\"timestamp\")", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_its_postgres_database_the_silo_starts_ingests_and_predicts_until_the_bound_then_the_log_catches_up()
    {
        const int Bound = 1000;
        await using var postgres = TestPostgres.Reserve();
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = postgres.ConnectionString,
            ["Predictions:Log:MaxPending"] = Bound.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA);
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        var batch = new { patient_ids = trial.PatientIds };

        // Bound / patients batches fill the backlog exactly; the next prediction would go beyond it.
        Assert.Equal(0, Bound % trial.PatientIds.Count);
        for (var i = 0; i < Bound / trial.PatientIds.Count; i++)
        {
            await (await app.Http.PostAsJsonAsync("/predict/batch", batch, TestContext.Current.CancellationToken)).ExpectAsync(200);
        }

        var full = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(503);
        var fullBatch = await (await app.Http.PostAsJsonAsync("/predict/batch", batch, TestContext.Current.CancellationToken)).ExpectAsync(503);
        var health = await (await app.Http.GetAsync("/api/clinical/health", TestContext.Current.CancellationToken)).ExpectAsync(200);
        await (await app.Http.GetAsync("/api/predictions?limit=10", TestContext.Current.CancellationToken)).ExpectAsync(503);
        await (await app.Http.PostAsync("/api/clinical/data", TestMessages.Json(TestMessages.Vitals(trial.PatientIds[0])), TestContext.Current.CancellationToken)).ExpectAsync(202);

        Assert.Equal("Prediction log full", full.GetProperty("title").GetString());
        Assert.Equal("Prediction log full", fullBatch.GetProperty("title").GetString());
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        var log = health.GetProperty("components").GetProperty("prediction_log");
        Assert.Equal("degraded", log.GetProperty("status").GetString());
        Assert.Contains($"{Bound} predictions wait", log.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await postgres.CreateAsync();

        Assert.Equal(Bound, await CountWhenCaughtUpAsync(postgres.ConnectionString, Bound));
        await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        var after = await (await app.Http.GetAsync("/api/clinical/health", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal("healthy", after.GetProperty("components").GetProperty("prediction_log").GetProperty("status").GetString());
    }

    /// <summary>The rows in the predictions table once it holds <paramref name="expected"/> (or after 20 s, to fail with the count).</summary>
    private static Task<long> CountWhenCaughtUpAsync(string connectionString, long expected) =>
        Eventually.UntilAsync(() => CountAsync(connectionString), count => count >= expected, TimeSpan.FromSeconds(20), $"{expected} predictions in PostgreSQL");

    private static async Task<long> CountAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand("SELECT count(*) FROM predictions", connection);
            return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // the log has not reached the new database yet
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task The_tracking_store_keeps_predictions_and_runs(string engine)
    {
        await using var postgres = engine == "postgres" ? await TestPostgres.CreateDatabaseAsync() : null;
        using var data = new DataDirectory();
        await using var store = TrackingStore.Create(postgres?.ConnectionString, data.Path);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        await store.InitializeAsync(TestContext.Current.CancellationToken); // idempotent
        var now = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        await store.WritePredictionsAsync(
        [
            new PredictionRecord(Guid.NewGuid(), "PT11111111", now, 0.25, "LOW", "m1", 1.5, "v1", now.AddHours(-1), [1, double.NaN]),
            new PredictionRecord(Guid.NewGuid(), "PT11111111", now.AddMinutes(1), 0.75, "HIGH", "m1", 2.5, "v1", now, [2, double.NaN]),
            new PredictionRecord(Guid.NewGuid(), "PT22222222", now.AddMinutes(2), 0.5, "MEDIUM", "m1", 0.5, null, null, []),
        ], TestContext.Current.CancellationToken);
        await store.RecordRunAsync(new ExperimentRun("r1", now, now.AddMinutes(1), "failed", null, new Dictionary<string, string> { ["seed"] = "4" },
            new Dictionary<string, double>(), new Dictionary<string, string> { ["source"] = "x" }, new Dictionary<string, string>(), "no rows"), TestContext.Current.CancellationToken);
        await store.RecordRunAsync(new ExperimentRun("r2", now.AddHours(1), now.AddHours(1), "succeeded", "m1", new Dictionary<string, string>(),
            new Dictionary<string, double> { ["test.auroc"] = 0.9 }, new Dictionary<string, string>(), new Dictionary<string, string> { ["model.onnx"] = "a" }, null), TestContext.Current.CancellationToken);

        var first = await store.ReadPredictionsAsync("PT11111111", 10, TestContext.Current.CancellationToken);
        var runs = await store.ListRunsAsync(10, TestContext.Current.CancellationToken);

        Assert.Equal([0.75, 0.25], first.Select(p => p.PredictionScore));
        Assert.Equal(now.AddMinutes(1), first[0].Timestamp);
        Assert.Equal(("HIGH", "m1", 2.5), (first[0].RiskLevel, first[0].ModelVersion, first[0].LatencyMs));
        Assert.Equal(("v1", now), (first[0].FeatureVersion, first[0].FeaturesAsOf));
        Assert.Equal([2, double.NaN], first[0].Features.ToArray());
        Assert.Equal(3, (await store.ReadPredictionsAsync(null, 10, TestContext.Current.CancellationToken)).Count);
        Assert.Equal(["r2", "r1"], runs.Select(r => r.RunId));
        Assert.Equal(0.9, runs[0].Metrics["test.auroc"]);
        Assert.Equal(("failed", "no rows", "4"), (runs[1].Status, runs[1].Error, runs[1].Parameters["seed"]));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_log_table_with_json_features_is_converted_to_arrays_on_start(string engine)
    {
        await using var postgres = engine == "postgres" ? await TestPostgres.CreateDatabaseAsync() : null;
        using var data = new DataDirectory();
        var id = Guid.NewGuid();
        var asOf = new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);
        const string OldTable = """
            CREATE TABLE predictions (id {0} PRIMARY KEY, patient_id text NOT NULL, timestamp {1} NOT NULL, prediction_score {2} NOT NULL,
                risk_level text NOT NULL, model_version text NOT NULL, latency_ms {2} NOT NULL, features_used {3} NOT NULL);
            CREATE INDEX ix_predictions_patient_time ON predictions (patient_id, timestamp);
            """;
        const string OldRow = """{"feature_version":"v1","as_of":"2026-11-26T08:00:00+00:00","values":[1.5,null,-2]}""";
        if (postgres is not null)
        {
            await using var connection = new NpgsqlConnection(postgres.ConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = new NpgsqlCommand(string.Format(OldTable, "uuid", "timestamptz", "double precision", "jsonb") + $"""
                INSERT INTO predictions VALUES ('{id}', 'PT11111111', '2026-11-26T09:00:00Z', 0.5, 'MEDIUM', 'm0', 1.0, '{OldRow}');
                """, connection);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        else
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(data.Path, TrackingStore.SqliteFileName)}");
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = connection.CreateCommand();
            create.CommandText = string.Format(OldTable, "TEXT", "TEXT", "REAL", "TEXT") + $"""
                INSERT INTO predictions VALUES ('{id}', 'PT11111111', '2026-11-26T09:00:00.0000000Z', 0.5, 'MEDIUM', 'm0', 1.0, '{OldRow}');
                """;
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await using var store = TrackingStore.Create(postgres?.ConnectionString, data.Path);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        await store.InitializeAsync(TestContext.Current.CancellationToken); // idempotent once converted
        await store.WritePredictionsAsync([new PredictionRecord(Guid.NewGuid(), "PT11111111", asOf.AddHours(2), 0.25, "LOW", "m1", 1.0, "v2", asOf, [3])],
            TestContext.Current.CancellationToken);

        var rows = await store.ReadPredictionsAsync("PT11111111", 10, TestContext.Current.CancellationToken);

        Assert.Equal(2, rows.Count);
        Assert.Equal((id, "m0", "v1", asOf), (rows[1].Id, rows[1].ModelVersion, rows[1].FeatureVersion, rows[1].FeaturesAsOf));
        Assert.Equal([1.5, double.NaN, -2], rows[1].Features.ToArray());
        Assert.Equal([3.0], rows[0].Features.ToArray());
    }
}
