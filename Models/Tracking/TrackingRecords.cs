namespace ClinicalTrials.Models.Tracking;

/// <summary>One logged prediction.</summary>
/// <param name="Id">A fresh UUID per prediction.</param>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="Timestamp">When the prediction was made (UTC).</param>
/// <param name="PredictionScore">The model's probability of an adverse event within 24 h.</param>
/// <param name="RiskLevel">LOW, MEDIUM or HIGH under the thresholds in force.</param>
/// <param name="ModelVersion">The production model that scored it.</param>
/// <param name="LatencyMs">Time from the request to the answer, in milliseconds.</param>
/// <param name="FeaturesUsed">
/// JSON: <c>{"feature_version", "as_of", "values": [...]}</c>, values in the model's feature order (its metadata names
/// them), null for a missing value.
/// </param>
public sealed record PredictionRecord(
    Guid Id,
    string PatientId,
    DateTimeOffset Timestamp,
    double PredictionScore,
    string RiskLevel,
    string ModelVersion,
    double LatencyMs,
    string FeaturesUsed);

/// <summary>One training run: what went in, what came out, where its files are.</summary>
/// <param name="RunId">Unique per run.</param>
/// <param name="StartedAt">When the run began (UTC).</param>
/// <param name="FinishedAt">When it ended.</param>
/// <param name="Status"><c>succeeded</c> or <c>failed</c>.</param>
/// <param name="ModelVersion">The model it produced, if any.</param>
/// <param name="Parameters">Trainer parameters.</param>
/// <param name="Metrics">Flat metrics such as <c>test.auroc</c>.</param>
/// <param name="Tags">Free-form labels: data source, feature version, code commit.</param>
/// <param name="Artifacts">Artifact name to location.</param>
/// <param name="Error">Why a failed run failed.</param>
public sealed record ExperimentRun(
    string RunId,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Status,
    string? ModelVersion,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, string> Artifacts,
    string? Error);
