namespace ClinicalTrials.Models.Tracking;

/// <summary>
/// The database of the model's life in production: every prediction, and every training run. One schema, two
/// engines: an embedded SQLite file by default, PostgreSQL when <c>ConnectionStrings:Postgres</c> is set.
/// </summary>
public interface ITrackingStore : IAsyncDisposable
{
    /// <summary>Where the data lives, for logs and health (no secrets).</summary>
    string Description { get; }

    /// <summary>Creates the tables and indexes when missing. Idempotent.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Appends predictions in one transaction.</summary>
    Task WritePredictionsAsync(IReadOnlyList<PredictionRecord> predictions, CancellationToken cancellationToken = default);

    /// <summary>The latest predictions, newest first; only <paramref name="patientId"/>'s when given.</summary>
    /// <exception cref="TrackingStoreUnavailableException">The database cannot be reached or has no tables yet.</exception>
    Task<IReadOnlyList<PredictionRecord>> ReadPredictionsAsync(string? patientId, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every prediction made at or after <paramref name="from"/> with its current label, streamed (the log may hold
    /// millions), ordered by patient and time.
    /// </summary>
    IAsyncEnumerable<LabelCandidate> ReadLabelCandidatesAsync(DateTimeOffset from, CancellationToken cancellationToken = default);

    /// <summary>Sets the predictions' labels and appends each to the prediction's label history, in one transaction.</summary>
    Task WriteOutcomesAsync(IReadOnlyList<PredictionOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Labelled predictions made in [<paramref name="from"/>, <paramref name="to"/>), newest first, each with its label history;
    /// only <paramref name="modelVersion"/>'s when given.
    /// </summary>
    /// <exception cref="TrackingStoreUnavailableException">The database cannot be reached or has no tables yet.</exception>
    Task<IReadOnlyList<LabelledPrediction>> ReadOutcomesAsync(string? modelVersion, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken = default);

    /// <summary>The model versions that made predictions in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    Task<IReadOnlyList<string>> ReadModelVersionsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>One model version's predictions made in [<paramref name="from"/>, <paramref name="to"/>) with their labels, streamed.</summary>
    IAsyncEnumerable<MonitoredPrediction> ReadWindowAsync(string modelVersion, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a monitoring run and its documents by name (<see cref="MonitoringDocuments"/>) in one transaction; a run id
    /// recorded again replaces the earlier row and documents.
    /// </summary>
    Task RecordMonitoringRunAsync(MonitoringRunRecord run, IReadOnlyDictionary<string, byte[]> documents, CancellationToken cancellationToken = default);

    /// <summary>A document of a monitoring run; null when the run has no document of that name (or there is no such run).</summary>
    /// <exception cref="TrackingStoreUnavailableException">The database cannot be reached or has no tables yet.</exception>
    Task<byte[]?> ReadMonitoringDocumentAsync(string runId, string name, CancellationToken cancellationToken = default);

    /// <summary>The latest monitoring runs, newest first.</summary>
    /// <exception cref="TrackingStoreUnavailableException">The database cannot be reached or has no tables yet.</exception>
    Task<IReadOnlyList<MonitoringRunRecord>> ListMonitoringRunsAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>Records a run (a run id recorded again replaces the earlier row).</summary>
    Task RecordRunAsync(ExperimentRun run, CancellationToken cancellationToken = default);

    /// <summary>The latest runs, newest first.</summary>
    /// <exception cref="TrackingStoreUnavailableException">The database cannot be reached or has no tables yet.</exception>
    Task<IReadOnlyList<ExperimentRun>> ListRunsAsync(int limit, CancellationToken cancellationToken = default);
}

/// <summary>
/// The tracking database cannot be reached, or is not ready (no database or tables yet): nothing was wrong with the
/// request; retry later (the API answers 503).
/// </summary>
public sealed class TrackingStoreUnavailableException(string store, Exception inner)
    : Exception($"The tracking database ({store}) is unavailable: {inner.Message}", inner);

/// <summary>Chooses the engine from configuration, as the silo and the trainer both do.</summary>
public static class TrackingStore
{
    /// <summary>The SQLite file under the data directory used when no PostgreSQL is configured.</summary>
    public const string SqliteFileName = "tracking.db";

    /// <summary>PostgreSQL when <paramref name="postgresConnectionString"/> is set, else SQLite under <paramref name="dataDirectory"/>.</summary>
    public static ITrackingStore Create(string? postgresConnectionString, string dataDirectory) =>
        string.IsNullOrWhiteSpace(postgresConnectionString)
            ? new SqliteTrackingStore(Path.Combine(dataDirectory, SqliteFileName))
            : new PostgresTrackingStore(postgresConnectionString);
}
