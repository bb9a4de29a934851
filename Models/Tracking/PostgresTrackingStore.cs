using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Npgsql;
using NpgsqlTypes;

namespace ClinicalTrials.Models.Tracking;

/// <summary>
/// The tracking database on PostgreSQL (<c>ConnectionStrings:Postgres</c>). Predictions are appended with binary COPY,
/// the cheapest way to move a batch of rows into PostgreSQL; their features go in as a <c>double precision[]</c>, written
/// straight from the scored vector.
/// </summary>
public sealed class PostgresTrackingStore(string connectionString) : ITrackingStore
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public string Description
    {
        get
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        }
    }

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            CREATE TABLE IF NOT EXISTS predictions (
                id uuid PRIMARY KEY,
                patient_id text NOT NULL,
                timestamp timestamptz NOT NULL,
                prediction_score double precision NOT NULL,
                risk_level text NOT NULL,
                model_version text NOT NULL,
                latency_ms double precision NOT NULL,
                feature_version text,
                features_as_of timestamptz,
                features double precision[] NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_predictions_patient_time ON predictions (patient_id, timestamp);
            CREATE INDEX IF NOT EXISTS ix_predictions_time ON predictions (timestamp);
            CREATE TABLE IF NOT EXISTS experiment_runs (
                run_id text PRIMARY KEY,
                started_at timestamptz NOT NULL,
                finished_at timestamptz NOT NULL,
                status text NOT NULL,
                model_version text,
                parameters jsonb NOT NULL,
                metrics jsonb NOT NULL,
                tags jsonb NOT NULL,
                artifacts jsonb NOT NULL,
                error text);
            CREATE INDEX IF NOT EXISTS ix_runs_started ON experiment_runs (started_at);
            CREATE TABLE IF NOT EXISTS prediction_outcomes (
                prediction_id uuid PRIMARY KEY,
                label text NOT NULL,
                event_onset timestamptz,
                labelled_at timestamptz NOT NULL);
            CREATE TABLE IF NOT EXISTS prediction_outcome_history (
                id bigserial PRIMARY KEY,
                prediction_id uuid NOT NULL,
                label text NOT NULL,
                event_onset timestamptz,
                labelled_at timestamptz NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_outcome_history_prediction ON prediction_outcome_history (prediction_id, labelled_at);
            CREATE INDEX IF NOT EXISTS ix_predictions_model_time ON predictions (model_version, timestamp);
            CREATE TABLE IF NOT EXISTS monitoring_runs (
                run_id text PRIMARY KEY,
                started_at timestamptz NOT NULL,
                finished_at timestamptz NOT NULL,
                status text NOT NULL,
                report jsonb,
                error text);
            CREATE INDEX IF NOT EXISTS ix_monitoring_runs_started ON monitoring_runs (started_at);
            CREATE TABLE IF NOT EXISTS monitoring_run_documents (
                run_id text NOT NULL,
                name text NOT NULL,
                content bytea NOT NULL,
                PRIMARY KEY (run_id, name));
            """ + UpgradeJsonFeatures);
        // Converting an older table rewrites every row (655,000 rows took 2.5 minutes on our busy 2-core VM): no command timeout,
        // only the caller's token, or every retry would be cut off and roll the conversion back.
        command.CommandTimeout = 0;
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation)
        {
            // Two processes creating the tables at once: the other one won, which is all we need.
        }
    }

    /// <summary>
    /// A table from before the features were an array keeps them as jsonb <c>features_used</c>
    /// (<c>{"feature_version", "as_of", "values": [...]}</c>, null for missing): converted in place, in the transaction
    /// that creates the tables; the lock and the second look let two processes starting at once convert it once.
    /// </summary>
    private const string UpgradeJsonFeatures = """

        DO $$
        BEGIN
            IF EXISTS (SELECT FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = 'predictions' AND column_name = 'features_used') THEN
                LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE;
                IF EXISTS (SELECT FROM information_schema.columns
                           WHERE table_schema = current_schema() AND table_name = 'predictions' AND column_name = 'features_used') THEN
                    ALTER TABLE predictions ADD COLUMN feature_version text, ADD COLUMN features_as_of timestamptz,
                        ADD COLUMN features double precision[];
                    UPDATE predictions SET
                        feature_version = features_used->>'feature_version',
                        features_as_of = (features_used->>'as_of')::timestamptz,
                        features = ARRAY(SELECT coalesce(v::double precision, 'NaN')
                                         FROM jsonb_array_elements_text(coalesce(features_used->'values', '[]')) WITH ORDINALITY AS e(v, i)
                                         ORDER BY i);
                    ALTER TABLE predictions ALTER COLUMN features SET NOT NULL, DROP COLUMN features_used;
                END IF;
            END IF;
        END $$;
        """;

    public async Task WritePredictionsAsync(IReadOnlyList<PredictionRecord> predictions, CancellationToken cancellationToken = default)
    {
        try
        {
            await CopyPredictionsAsync(predictions, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A retry of a batch whose COPY committed although its answer was lost: one COPY is all-or-nothing, so the
            // whole batch is in already.
        }
    }

    private async Task CopyPredictionsAsync(IReadOnlyList<PredictionRecord> predictions, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var importer = await connection.BeginBinaryImportAsync(
            "COPY predictions (id, patient_id, timestamp, prediction_score, risk_level, model_version, latency_ms, feature_version, features_as_of, features) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        foreach (var p in predictions)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(p.Id, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(p.PatientId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(p.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(p.PredictionScore, NpgsqlDbType.Double, cancellationToken);
            await importer.WriteAsync(p.RiskLevel, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(p.ModelVersion, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(p.LatencyMs, NpgsqlDbType.Double, cancellationToken);
            await importer.WriteAsync(p.FeatureVersion, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(p.FeaturesAsOf?.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(ImmutableCollectionsMarshal.AsArray(p.Features) ?? [], NpgsqlDbType.Array | NpgsqlDbType.Double, cancellationToken);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    public Task<IReadOnlyList<PredictionRecord>> ReadPredictionsAsync(string? patientId, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(() => QueryPredictionsAsync(patientId, limit, cancellationToken));

    private async Task<IReadOnlyList<PredictionRecord>> QueryPredictionsAsync(string? patientId, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            SELECT id, patient_id, timestamp, prediction_score, risk_level, model_version, latency_ms, feature_version, features_as_of, features
            FROM predictions {(patientId is null ? "" : "WHERE patient_id = @patient")}
            ORDER BY timestamp DESC LIMIT @limit
            """);
        if (patientId is not null)
        {
            command.Parameters.AddWithValue("patient", patientId);
        }

        command.Parameters.AddWithValue("limit", limit);
        var rows = new List<PredictionRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new PredictionRecord(
                reader.GetGuid(0), reader.GetString(1), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetDouble(3),
                reader.GetString(4), reader.GetString(5), reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : new DateTimeOffset(reader.GetDateTime(8), TimeSpan.Zero),
                ImmutableCollectionsMarshal.AsImmutableArray(reader.GetFieldValue<double[]>(9))));
        }

        return rows;
    }

    public async IAsyncEnumerable<LabelCandidate> ReadLabelCandidatesAsync(DateTimeOffset from, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT p.id, p.patient_id, p.timestamp, p.model_version, o.label, o.event_onset
            FROM predictions p LEFT JOIN prediction_outcomes o ON o.prediction_id = p.id
            WHERE p.timestamp >= @from ORDER BY p.patient_id, p.timestamp
            """);
        command.Parameters.AddWithValue("from", from.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new LabelCandidate(reader.GetGuid(0), reader.GetString(1), Utc(reader.GetDateTime(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : OutcomeText.Parse(reader.GetString(4)), reader.IsDBNull(5) ? null : Utc(reader.GetDateTime(5)));
        }
    }

    public async Task WriteOutcomesAsync(IReadOnlyList<PredictionOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var batch = new NpgsqlBatch(connection, transaction);
        await using (batch)
        {
            foreach (var outcome in outcomes)
            {
                foreach (var sql in new[]
                {
                    """
                    INSERT INTO prediction_outcomes (prediction_id, label, event_onset, labelled_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (prediction_id) DO UPDATE SET label = excluded.label, event_onset = excluded.event_onset, labelled_at = excluded.labelled_at
                    """,
                    "INSERT INTO prediction_outcome_history (prediction_id, label, event_onset, labelled_at) VALUES ($1, $2, $3, $4)",
                })
                {
                    var command = new NpgsqlBatchCommand(sql);
                    command.Parameters.Add(new NpgsqlParameter { Value = outcome.PredictionId, NpgsqlDbType = NpgsqlDbType.Uuid });
                    command.Parameters.Add(new NpgsqlParameter { Value = OutcomeText.Format(outcome.Label), NpgsqlDbType = NpgsqlDbType.Text });
                    command.Parameters.Add(new NpgsqlParameter { Value = (object?)outcome.EventOnset?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    command.Parameters.Add(new NpgsqlParameter { Value = outcome.LabelledAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                    batch.BatchCommands.Add(command);
                }
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task<IReadOnlyList<LabelledPrediction>> ReadOutcomesAsync(
        string? modelVersion, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(() => QueryOutcomesAsync(modelVersion, from, to, limit, cancellationToken));

    private async Task<IReadOnlyList<LabelledPrediction>> QueryOutcomesAsync(
        string? modelVersion, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"""
            SELECT p.id, p.patient_id, p.timestamp, p.model_version, p.prediction_score, p.risk_level, o.label, o.event_onset, o.labelled_at,
                (SELECT coalesce(array_agg(h.label ORDER BY h.labelled_at, h.id), '{"{}"}') FROM prediction_outcome_history h WHERE h.prediction_id = p.id),
                (SELECT coalesce(array_agg(h.event_onset ORDER BY h.labelled_at, h.id), '{"{}"}') FROM prediction_outcome_history h WHERE h.prediction_id = p.id),
                (SELECT coalesce(array_agg(h.labelled_at ORDER BY h.labelled_at, h.id), '{"{}"}') FROM prediction_outcome_history h WHERE h.prediction_id = p.id)
            FROM predictions p JOIN prediction_outcomes o ON o.prediction_id = p.id
            WHERE p.timestamp >= @from AND p.timestamp < @to {(modelVersion is null ? "" : "AND p.model_version = @model")}
            ORDER BY p.timestamp DESC LIMIT @limit
            """);
        command.Parameters.AddWithValue("from", from.UtcDateTime);
        command.Parameters.AddWithValue("to", to.UtcDateTime);
        command.Parameters.AddWithValue("limit", limit);
        if (modelVersion is not null)
        {
            command.Parameters.AddWithValue("model", modelVersion);
        }

        var rows = new List<LabelledPrediction>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            var labels = reader.GetFieldValue<string[]>(9);
            var onsets = reader.GetFieldValue<DateTime?[]>(10);
            var times = reader.GetFieldValue<DateTime[]>(11);
            rows.Add(new LabelledPrediction(id, reader.GetString(1), Utc(reader.GetDateTime(2)), reader.GetString(3), reader.GetDouble(4), reader.GetString(5),
                new PredictionOutcome(id, OutcomeText.Parse(reader.GetString(6)), reader.IsDBNull(7) ? null : Utc(reader.GetDateTime(7)), Utc(reader.GetDateTime(8))),
                [.. labels.Select((label, i) => new PredictionOutcome(id, OutcomeText.Parse(label), onsets[i] is { } onset ? Utc(onset) : null, Utc(times[i])))]));
        }

        return rows;
    }

    public async Task<IReadOnlyList<string>> ReadModelVersionsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT DISTINCT model_version FROM predictions WHERE timestamp >= @from AND timestamp < @to ORDER BY model_version");
        command.Parameters.AddWithValue("from", from.UtcDateTime);
        command.Parameters.AddWithValue("to", to.UtcDateTime);
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
        await using var command = _dataSource.CreateCommand("""
            SELECT p.patient_id, p.prediction_score, p.risk_level, p.features, o.label
            FROM predictions p LEFT JOIN prediction_outcomes o ON o.prediction_id = p.id
            WHERE p.model_version = @model AND p.timestamp >= @from AND p.timestamp < @to
            """);
        command.Parameters.AddWithValue("model", modelVersion);
        command.Parameters.AddWithValue("from", from.UtcDateTime);
        command.Parameters.AddWithValue("to", to.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new MonitoredPrediction(reader.GetString(0), reader.GetDouble(1), reader.GetString(2),
                ImmutableCollectionsMarshal.AsImmutableArray(reader.GetFieldValue<double[]>(3)), reader.IsDBNull(4) ? null : OutcomeText.Parse(reader.GetString(4)));
        }
    }

    public async Task RecordMonitoringRunAsync(MonitoringRunRecord run, IReadOnlyDictionary<string, byte[]> documents, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var record = new NpgsqlBatchCommand("""
            INSERT INTO monitoring_runs (run_id, started_at, finished_at, status, report, error)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (run_id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at,
                status = excluded.status, report = excluded.report, error = excluded.error
            """);
        record.Parameters.Add(new NpgsqlParameter { Value = run.RunId });
        record.Parameters.Add(new NpgsqlParameter { Value = run.StartedAt.UtcDateTime });
        record.Parameters.Add(new NpgsqlParameter { Value = run.FinishedAt.UtcDateTime });
        record.Parameters.Add(new NpgsqlParameter { Value = run.Status });
        record.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = (object?)run.Report ?? DBNull.Value });
        record.Parameters.Add(new NpgsqlParameter { Value = (object?)run.Error ?? DBNull.Value });
        batch.BatchCommands.Add(record);
        var clear = new NpgsqlBatchCommand("DELETE FROM monitoring_run_documents WHERE run_id = $1");
        clear.Parameters.Add(new NpgsqlParameter { Value = run.RunId });
        batch.BatchCommands.Add(clear);
        foreach (var (name, content) in documents)
        {
            var document = new NpgsqlBatchCommand("INSERT INTO monitoring_run_documents (run_id, name, content) VALUES ($1, $2, $3)");
            document.Parameters.Add(new NpgsqlParameter { Value = run.RunId });
            document.Parameters.Add(new NpgsqlParameter { Value = name });
            document.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = content });
            batch.BatchCommands.Add(document);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public Task<byte[]?> ReadMonitoringDocumentAsync(string runId, string name, CancellationToken cancellationToken = default) =>
        ReadAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand("SELECT content FROM monitoring_run_documents WHERE run_id = @id AND name = @name");
            command.Parameters.AddWithValue("id", runId);
            command.Parameters.AddWithValue("name", name);
            return await command.ExecuteScalarAsync(cancellationToken) as byte[];
        });

    public Task<IReadOnlyList<MonitoringRunRecord>> ListMonitoringRunsAsync(int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(() => QueryMonitoringRunsAsync(limit, cancellationToken));

    private async Task<IReadOnlyList<MonitoringRunRecord>> QueryMonitoringRunsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT run_id, started_at, finished_at, status, report::text, error FROM monitoring_runs ORDER BY started_at DESC LIMIT @limit");
        command.Parameters.AddWithValue("limit", limit);
        var runs = new List<MonitoringRunRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new MonitoringRunRecord(reader.GetString(0), Utc(reader.GetDateTime(1)), Utc(reader.GetDateTime(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return runs;
    }

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero);

    public async Task RecordRunAsync(ExperimentRun run, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO experiment_runs (run_id, started_at, finished_at, status, model_version, parameters, metrics, tags, artifacts, error)
            VALUES (@id, @started, @finished, @status, @model, @parameters, @metrics, @tags, @artifacts, @error)
            ON CONFLICT (run_id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at,
                status = excluded.status, model_version = excluded.model_version, parameters = excluded.parameters,
                metrics = excluded.metrics, tags = excluded.tags, artifacts = excluded.artifacts, error = excluded.error
            """);
        command.Parameters.AddWithValue("id", run.RunId);
        command.Parameters.AddWithValue("started", run.StartedAt.UtcDateTime);
        command.Parameters.AddWithValue("finished", run.FinishedAt.UtcDateTime);
        command.Parameters.AddWithValue("status", run.Status);
        command.Parameters.AddWithValue("model", (object?)run.ModelVersion ?? DBNull.Value);
        command.Parameters.AddWithValue("parameters", NpgsqlDbType.Jsonb, TrackingJson.Write(run.Parameters));
        command.Parameters.AddWithValue("metrics", NpgsqlDbType.Jsonb, TrackingJson.Write(run.Metrics));
        command.Parameters.AddWithValue("tags", NpgsqlDbType.Jsonb, TrackingJson.Write(run.Tags));
        command.Parameters.AddWithValue("artifacts", NpgsqlDbType.Jsonb, TrackingJson.Write(run.Artifacts));
        command.Parameters.AddWithValue("error", (object?)run.Error ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<IReadOnlyList<ExperimentRun>> ListRunsAsync(int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(() => QueryRunsAsync(limit, cancellationToken));

    private async Task<IReadOnlyList<ExperimentRun>> QueryRunsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT run_id, started_at, finished_at, status, model_version, parameters::text, metrics::text, tags::text, artifacts::text, error
            FROM experiment_runs ORDER BY started_at DESC LIMIT @limit
            """);
        command.Parameters.AddWithValue("limit", limit);
        var runs = new List<ExperimentRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new ExperimentRun(
                reader.GetString(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
                reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                TrackingJson.Read<string>(reader.GetString(5)), TrackingJson.Read<double>(reader.GetString(6)),
                TrackingJson.Read<string>(reader.GetString(7)), TrackingJson.Read<string>(reader.GetString(8)),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return runs;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>
    /// A read, with "cannot answer now" told apart from a fault: no connection, the server shutting down or refusing
    /// (57P), no such database (3D000) or no tables yet (42P01: the prediction log creates them when it first connects).
    /// </summary>
    private async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (NpgsqlException e) when (e is PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.UndefinedTable }
            || e is PostgresException p && p.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || e is not PostgresException && e.IsTransient)
        {
            throw new TrackingStoreUnavailableException(Description, e);
        }
    }
}
