using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
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
                feature_version TEXT,
                features_as_of TEXT,
                features BLOB NOT NULL);
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
            CREATE TABLE IF NOT EXISTS prediction_outcomes (
                prediction_id TEXT PRIMARY KEY,
                label TEXT NOT NULL,
                event_onset TEXT,
                labelled_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS prediction_outcome_history (
                prediction_id TEXT NOT NULL,
                label TEXT NOT NULL,
                event_onset TEXT,
                labelled_at TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_outcome_history_prediction ON prediction_outcome_history (prediction_id, labelled_at);
            CREATE INDEX IF NOT EXISTS ix_predictions_model_time ON predictions (model_version, timestamp);
            CREATE TABLE IF NOT EXISTS monitoring_runs (
                run_id TEXT PRIMARY KEY,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                status TEXT NOT NULL,
                report TEXT,
                error TEXT);
            CREATE INDEX IF NOT EXISTS ix_monitoring_runs_started ON monitoring_runs (started_at);
            CREATE TABLE IF NOT EXISTS monitoring_run_documents (
                run_id TEXT NOT NULL,
                name TEXT NOT NULL,
                content BLOB NOT NULL,
                PRIMARY KEY (run_id, name));
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        await UpgradeJsonFeaturesAsync(connection, cancellationToken);
    }

    /// <summary>
    /// A table from before the features were an array keeps them as JSON text <c>features_used</c>
    /// (<c>{"feature_version", "as_of", "values": [...]}</c>, null for missing): converted in one write transaction, which
    /// also keeps a second process from converting it again.
    /// </summary>
    private static async Task UpgradeJsonFeaturesAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM pragma_table_info('predictions') WHERE name = 'features_used'";
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            return;
        }

        command.CommandText = """
            ALTER TABLE predictions ADD COLUMN feature_version TEXT;
            ALTER TABLE predictions ADD COLUMN features_as_of TEXT;
            ALTER TABLE predictions ADD COLUMN features BLOB;
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        var converted = new List<(string Id, string? Version, string? AsOf, byte[] Features)>();
        command.CommandText = "SELECT id, features_used FROM predictions";
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                using var json = JsonDocument.Parse(reader.GetString(1));
                var root = json.RootElement;
                var values = root.TryGetProperty("values", out var array)
                    ? array.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToArray()
                    : [];
                converted.Add((reader.GetString(0), root.TryGetProperty("feature_version", out var version) ? version.GetString() : null,
                    root.TryGetProperty("as_of", out var asOf) ? Format(asOf.GetDateTimeOffset()) : null, ToBlob(ImmutableCollectionsMarshal.AsImmutableArray(values))));
            }
        }

        command.CommandText = "UPDATE predictions SET feature_version = $version, features_as_of = $asOf, features = $features WHERE id = $id";
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var versionParameter = command.Parameters.Add("$version", SqliteType.Text);
        var asOfParameter = command.Parameters.Add("$asOf", SqliteType.Text);
        var features = command.Parameters.Add("$features", SqliteType.Blob);
        foreach (var row in converted)
        {
            (id.Value, versionParameter.Value, asOfParameter.Value, features.Value) = (row.Id, (object?)row.Version ?? DBNull.Value, (object?)row.AsOf ?? DBNull.Value, row.Features);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        command.Parameters.Clear();
        command.CommandText = "ALTER TABLE predictions DROP COLUMN features_used";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task WritePredictionsAsync(IReadOnlyList<PredictionRecord> predictions, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR IGNORE INTO predictions (id, patient_id, timestamp, prediction_score, risk_level, model_version, latency_ms, feature_version, features_as_of, features)
            VALUES ($id, $patient, $time, $score, $risk, $model, $latency, $featureVersion, $asOf, $features)
            """;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var patient = command.Parameters.Add("$patient", SqliteType.Text);
        var time = command.Parameters.Add("$time", SqliteType.Text);
        var score = command.Parameters.Add("$score", SqliteType.Real);
        var risk = command.Parameters.Add("$risk", SqliteType.Text);
        var model = command.Parameters.Add("$model", SqliteType.Text);
        var latency = command.Parameters.Add("$latency", SqliteType.Real);
        var featureVersion = command.Parameters.Add("$featureVersion", SqliteType.Text);
        var asOf = command.Parameters.Add("$asOf", SqliteType.Text);
        var features = command.Parameters.Add("$features", SqliteType.Blob);
        foreach (var p in predictions)
        {
            id.Value = p.Id.ToString();
            patient.Value = p.PatientId;
            time.Value = Format(p.Timestamp);
            score.Value = p.PredictionScore;
            risk.Value = p.RiskLevel;
            model.Value = p.ModelVersion;
            latency.Value = p.LatencyMs;
            featureVersion.Value = (object?)p.FeatureVersion ?? DBNull.Value;
            asOf.Value = p.FeaturesAsOf is { } at ? Format(at) : DBNull.Value;
            features.Value = ToBlob(p.Features);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PredictionRecord>> ReadPredictionsAsync(string? patientId, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, patient_id, timestamp, prediction_score, risk_level, model_version, latency_ms, feature_version, features_as_of, features
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
                reader.GetString(4), reader.GetString(5), reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : Parse(reader.GetString(8)), FromBlob(reader.GetFieldValue<byte[]>(9))));
        }

        return rows;
    }

    public async IAsyncEnumerable<LabelCandidate> ReadLabelCandidatesAsync(DateTimeOffset from, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT p.id, p.patient_id, p.timestamp, p.model_version, o.label, o.event_onset
            FROM predictions p LEFT JOIN prediction_outcomes o ON o.prediction_id = p.id
            WHERE p.timestamp >= $from ORDER BY p.patient_id, p.timestamp
            """;
        command.Parameters.AddWithValue("$from", Format(from));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new LabelCandidate(Guid.Parse(reader.GetString(0)), reader.GetString(1), Parse(reader.GetString(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : OutcomeText.Parse(reader.GetString(4)), reader.IsDBNull(5) ? null : Parse(reader.GetString(5)));
        }
    }

    public async Task WriteOutcomesAsync(IReadOnlyList<PredictionOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR REPLACE INTO prediction_outcomes (prediction_id, label, event_onset, labelled_at) VALUES ($id, $label, $onset, $at);
            INSERT INTO prediction_outcome_history (prediction_id, label, event_onset, labelled_at) VALUES ($id, $label, $onset, $at);
            """;
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var label = command.Parameters.Add("$label", SqliteType.Text);
        var onset = command.Parameters.Add("$onset", SqliteType.Text);
        var at = command.Parameters.Add("$at", SqliteType.Text);
        foreach (var outcome in outcomes)
        {
            id.Value = outcome.PredictionId.ToString();
            label.Value = OutcomeText.Format(outcome.Label);
            onset.Value = outcome.EventOnset is { } time ? Format(time) : DBNull.Value;
            at.Value = Format(outcome.LabelledAt);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<LabelledPrediction>> ReadOutcomesAsync(
        string? modelVersion, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT p.id, p.patient_id, p.timestamp, p.model_version, p.prediction_score, p.risk_level, o.label, o.event_onset, o.labelled_at
            FROM predictions p JOIN prediction_outcomes o ON o.prediction_id = p.id
            WHERE p.timestamp >= $from AND p.timestamp < $to {(modelVersion is null ? "" : "AND p.model_version = $model")}
            ORDER BY p.timestamp DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$from", Format(from));
        command.Parameters.AddWithValue("$to", Format(to));
        command.Parameters.AddWithValue("$limit", limit);
        if (modelVersion is not null)
        {
            command.Parameters.AddWithValue("$model", modelVersion);
        }

        var rows = new List<LabelledPrediction>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = Guid.Parse(reader.GetString(0));
                rows.Add(new LabelledPrediction(id, reader.GetString(1), Parse(reader.GetString(2)), reader.GetString(3), reader.GetDouble(4), reader.GetString(5),
                    new PredictionOutcome(id, OutcomeText.Parse(reader.GetString(6)), reader.IsDBNull(7) ? null : Parse(reader.GetString(7)), Parse(reader.GetString(8))),
                    []));
            }
        }

        await using var history = connection.CreateCommand();
        history.CommandText = "SELECT label, event_onset, labelled_at FROM prediction_outcome_history WHERE prediction_id = $id ORDER BY labelled_at, rowid";
        var idParameter = history.Parameters.Add("$id", SqliteType.Text);
        for (var i = 0; i < rows.Count; i++)
        {
            idParameter.Value = rows[i].PredictionId.ToString();
            var labels = new List<PredictionOutcome>();
            await using var reader = await history.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                labels.Add(new PredictionOutcome(rows[i].PredictionId, OutcomeText.Parse(reader.GetString(0)), reader.IsDBNull(1) ? null : Parse(reader.GetString(1)), Parse(reader.GetString(2))));
            }

            rows[i] = rows[i] with { History = labels };
        }

        return rows;
    }

    public async Task<IReadOnlyList<string>> ReadModelVersionsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT model_version FROM predictions WHERE timestamp >= $from AND timestamp < $to ORDER BY model_version";
        command.Parameters.AddWithValue("$from", Format(from));
        command.Parameters.AddWithValue("$to", Format(to));
        var versions = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetString(0));
        }

        return versions;
    }

    public async IAsyncEnumerable<MonitoredPrediction> ReadWindowAsync(
        string modelVersion, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT p.patient_id, p.prediction_score, p.risk_level, p.features, o.label
            FROM predictions p LEFT JOIN prediction_outcomes o ON o.prediction_id = p.id
            WHERE p.model_version = $model AND p.timestamp >= $from AND p.timestamp < $to
            """;
        command.Parameters.AddWithValue("$model", modelVersion);
        command.Parameters.AddWithValue("$from", Format(from));
        command.Parameters.AddWithValue("$to", Format(to));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new MonitoredPrediction(reader.GetString(0), reader.GetDouble(1), reader.GetString(2),
                FromBlob(reader.GetFieldValue<byte[]>(3)), reader.IsDBNull(4) ? null : OutcomeText.Parse(reader.GetString(4)));
        }
    }

    public async Task RecordMonitoringRunAsync(MonitoringRunRecord run, IReadOnlyDictionary<string, byte[]> documents, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT OR REPLACE INTO monitoring_runs (run_id, started_at, finished_at, status, report, error)
            VALUES ($id, $started, $finished, $status, $report, $error);
            DELETE FROM monitoring_run_documents WHERE run_id = $id;
            """;
        command.Parameters.AddWithValue("$id", run.RunId);
        command.Parameters.AddWithValue("$started", Format(run.StartedAt));
        command.Parameters.AddWithValue("$finished", Format(run.FinishedAt));
        command.Parameters.AddWithValue("$status", run.Status);
        command.Parameters.AddWithValue("$report", (object?)run.Report ?? DBNull.Value);
        command.Parameters.AddWithValue("$error", (object?)run.Error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);

        command.CommandText = "INSERT INTO monitoring_run_documents (run_id, name, content) VALUES ($id, $name, $content)";
        command.Parameters.Clear();
        command.Parameters.AddWithValue("$id", run.RunId);
        var name = command.Parameters.Add("$name", SqliteType.Text);
        var content = command.Parameters.Add("$content", SqliteType.Blob);
        foreach (var document in documents)
        {
            (name.Value, content.Value) = (document.Key, document.Value);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<byte[]?> ReadMonitoringDocumentAsync(string runId, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT content FROM monitoring_run_documents WHERE run_id = $id AND name = $name";
        command.Parameters.AddWithValue("$id", runId);
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<IReadOnlyList<MonitoringRunRecord>> ListMonitoringRunsAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT run_id, started_at, finished_at, status, report, error FROM monitoring_runs ORDER BY started_at DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        var runs = new List<MonitoringRunRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new MonitoringRunRecord(reader.GetString(0), Parse(reader.GetString(1)), Parse(reader.GetString(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return runs;
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

    private static byte[] ToBlob(ImmutableArray<double> values)
    {
        var blob = new byte[values.Length * sizeof(double)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(blob.AsSpan(i * sizeof(double)), values[i]);
        }

        return blob;
    }

    private static ImmutableArray<double> FromBlob(byte[] blob)
    {
        var values = new double[blob.Length / sizeof(double)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(blob.AsSpan(i * sizeof(double)));
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(values);
    }

    // Fixed-width UTC text sorts in time order, so the timestamp indexes serve ORDER BY and ranges.
    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
