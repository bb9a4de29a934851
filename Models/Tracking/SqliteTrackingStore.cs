using System.Globalization;
using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Models.Tracking;

/// <summary>
/// The embedded tracking database: one SQLite file in WAL mode, shared by the silo (predictions) and the trainer (runs);
/// a busy timeout lets the two processes take turns writing.
/// </summary>
public sealed class SqliteTrackingStore(string path) : ITrackingStore
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    public string Description => $"SQLite {path}";

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS predictions (
                id TEXT PRIMARY KEY,
                patient_id TEXT NOT NULL,
                timestamp TEXT NOT NULL,
                prediction_score REAL NOT NULL,
                risk_level TEXT NOT NULL,
                model_version TEXT NOT NULL,
                latency_ms REAL NOT NULL,
                features_used TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_predictions_patient_time ON predictions (patient_id, timestamp);
            CREATE INDEX IF NOT EXISTS ix_predictions_time ON predictions (timestamp);
            CREATE TABLE IF NOT EXISTS experiment_runs (
                run_id TEXT PRIMARY KEY,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                status TEXT NOT NULL,
                model_version TEXT,
                parameters TEXT NOT NULL,
                metrics TEXT NOT NULL,
                tags TEXT NOT NULL,
                artifacts TEXT NOT NULL,
                error TEXT);
            CREATE INDEX IF NOT EXISTS ix_runs_started ON experiment_runs (started_at);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task WritePredictionsAsync(IReadOnlyList<PredictionRecord> predictions, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR IGNORE INTO predictions (id, patient_id, timestamp, prediction_score, risk_level, model_version, latency_ms, features_used)
            VALUES ($id, $patient, $time, $score, $risk, $model, $latency, $features)
            """;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var patient = command.Parameters.Add("$patient", SqliteType.Text);
        var time = command.Parameters.Add("$time", SqliteType.Text);
        var score = command.Parameters.Add("$score", SqliteType.Real);
        var risk = command.Parameters.Add("$risk", SqliteType.Text);
        var model = command.Parameters.Add("$model", SqliteType.Text);
        var latency = command.Parameters.Add("$latency", SqliteType.Real);
        var features = command.Parameters.Add("$features", SqliteType.Text);
        foreach (var p in predictions)
        {
            id.Value = p.Id.ToString();
            patient.Value = p.PatientId;
            time.Value = Format(p.Timestamp);
            score.Value = p.PredictionScore;
            risk.Value = p.RiskLevel;
            model.Value = p.ModelVersion;
            latency.Value = p.LatencyMs;
            features.Value = p.FeaturesUsed;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PredictionRecord>> ReadPredictionsAsync(string? patientId, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, patient_id, timestamp, prediction_score, risk_level, model_version, latency_ms, features_used
            FROM predictions {(patientId is null ? "" : "WHERE patient_id = $patient")}
            ORDER BY timestamp DESC LIMIT $limit
            """;
        if (patientId is not null)
        {
            command.Parameters.AddWithValue("$patient", patientId);
        }

        command.Parameters.AddWithValue("$limit", limit);
        var rows = new List<PredictionRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new PredictionRecord(
                Guid.Parse(reader.GetString(0)), reader.GetString(1), Parse(reader.GetString(2)), reader.GetDouble(3),
                reader.GetString(4), reader.GetString(5), reader.GetDouble(6), reader.GetString(7)));
        }

        return rows;
    }

    public async Task RecordRunAsync(ExperimentRun run, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR REPLACE INTO experiment_runs (run_id, started_at, finished_at, status, model_version, parameters, metrics, tags, artifacts, error)
            VALUES ($id, $started, $finished, $status, $model, $parameters, $metrics, $tags, $artifacts, $error)
            """;
        command.Parameters.AddWithValue("$id", run.RunId);
        command.Parameters.AddWithValue("$started", Format(run.StartedAt));
        command.Parameters.AddWithValue("$finished", Format(run.FinishedAt));
        command.Parameters.AddWithValue("$status", run.Status);
        command.Parameters.AddWithValue("$model", (object?)run.ModelVersion ?? DBNull.Value);
        command.Parameters.AddWithValue("$parameters", TrackingJson.Write(run.Parameters));
        command.Parameters.AddWithValue("$metrics", TrackingJson.Write(run.Metrics));
        command.Parameters.AddWithValue("$tags", TrackingJson.Write(run.Tags));
        command.Parameters.AddWithValue("$artifacts", TrackingJson.Write(run.Artifacts));
        command.Parameters.AddWithValue("$error", (object?)run.Error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ExperimentRun>> ListRunsAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT run_id, started_at, finished_at, status, model_version, parameters, metrics, tags, artifacts, error
            FROM experiment_runs ORDER BY started_at DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$limit", limit);
        var runs = new List<ExperimentRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new ExperimentRun(
                reader.GetString(0), Parse(reader.GetString(1)), Parse(reader.GetString(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                TrackingJson.Read<string>(reader.GetString(5)), TrackingJson.Read<double>(reader.GetString(6)),
                TrackingJson.Read<string>(reader.GetString(7)), TrackingJson.Read<string>(reader.GetString(8)),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return runs;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    // Fixed-width UTC text sorts in time order, so the timestamp indexes serve ORDER BY and ranges.
    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
