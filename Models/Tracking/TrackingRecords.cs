using System.Collections.Immutable;
using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Models.Tracking;

/// <summary>One logged prediction.</summary>
/// <param name="Id">A fresh UUID per prediction.</param>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="Timestamp">When the prediction was made (UTC).</param>
/// <param name="PredictionScore">The model's probability of an adverse event within 24 h.</param>
/// <param name="RiskLevel">LOW, MEDIUM or HIGH under the thresholds in force.</param>
/// <param name="ModelVersion">The production model that scored it.</param>
/// <param name="LatencyMs">Time from the request to the answer, in milliseconds.</param>
/// <param name="FeatureVersion">The feature catalogue version the features were computed with.</param>
/// <param name="FeaturesAsOf">The clinical time of the features scored.</param>
/// <param name="Features">
/// The values scored, in the model's feature order (its metadata names them), NaN for a missing value. Stored as an
/// array of doubles (PostgreSQL <c>double precision[]</c>, SQLite a BLOB of little-endian doubles), not as JSON text:
/// that saves some 12 KB of garbage per prediction, and PostgreSQL's jsonb parsing, on the cores that serve
/// <c>POST /predict</c> (docs/benchmarks.md, issue 21).
/// </param>
public sealed record PredictionRecord(
    Guid Id,
    string PatientId,
    DateTimeOffset Timestamp,
    double PredictionScore,
    string RiskLevel,
    string ModelVersion,
    double LatencyMs,
    string? FeatureVersion,
    DateTimeOffset? FeaturesAsOf,
    ImmutableArray<double> Features);

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

/// <summary>A logged prediction to label, with the label it has now (null: none yet).</summary>
public sealed record LabelCandidate(Guid PredictionId, string PatientId, DateTimeOffset PredictedAt, string ModelVersion, OutcomeLabel? Label, DateTimeOffset? EventOnset);

/// <summary>A prediction's label as given at one time: the current one, or an earlier one kept in its history.</summary>
/// <param name="PredictionId">The logged prediction's id.</param>
/// <param name="Label">What became of the patient within the model's horizon.</param>
/// <param name="EventOnset">For a positive, the onset of the event that made it so.</param>
/// <param name="LabelledAt">When the label was given.</param>
public sealed record PredictionOutcome(Guid PredictionId, OutcomeLabel Label, DateTimeOffset? EventOnset, DateTimeOffset LabelledAt);

/// <summary>A labelled prediction with every label it has had, oldest first (the last is <see cref="Outcome"/>).</summary>
public sealed record LabelledPrediction(
    Guid PredictionId, string PatientId, DateTimeOffset PredictedAt, string ModelVersion, double PredictionScore, string RiskLevel,
    PredictionOutcome Outcome, IReadOnlyList<PredictionOutcome> History);

/// <summary>One logged prediction as monitoring reads it: score, risk level, the features scored and its label, if any.</summary>
public sealed record MonitoredPrediction(string PatientId, double PredictionScore, string RiskLevel, ImmutableArray<double> Features, OutcomeLabel? Label);

/// <summary>One monitoring run: when, how it ended, and its report (JSON, see <c>MonitoringReport</c>).</summary>
public sealed record MonitoringRunRecord(string RunId, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Status, string? Report, string? Error);

/// <summary>
/// The documents stored with a monitoring run beside its record, by name: the Markdown report and its PNG figure,
/// served at <c>/api/monitoring/runs/{id}/{name}</c>.
/// </summary>
public static class MonitoringDocuments
{
    public const string Markdown = "report.md";

    public const string Png = "report.png";
}
