using System.Collections.Immutable;
using System.Diagnostics;
using ClinicalTrials.Api.Predictions;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api;

/// <summary><c>POST /predict</c>, <c>POST /predict/batch</c> and <c>GET /api/predictions</c>: risk of an adverse event within 24 h.</summary>
public static class PredictionApi
{
    public const int MaxBatchPatients = 1000;

    public static void MapPredictionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/predict", PredictAsync).WithTags("Predictions").WithName("Predict")
            .WithSummary("The probability of an adverse event within 24 h for one patient, from their current features and the production model.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/predict/batch", PredictBatchAsync).WithTags("Predictions").WithName("PredictBatch")
            .WithSummary($"Predictions for up to {MaxBatchPatients} patients with one model version; unknown patients are listed apart.");
        app.MapGet("/api/predictions", ListAsync).WithTags("Predictions").WithName("ListPredictions")
            .WithSummary("The prediction log, newest first; one patient's with ?patient_id=.");
    }

    private static async Task<Results<Ok<PredictionResponse>, ProblemHttpResult, ValidationProblem>> PredictAsync(
        PredictRequest? request, IGrainFactory grains, PredictionLog log, IOptions<RiskThresholds> thresholds, ClinicalMetrics metrics)
    {
        var started = Stopwatch.GetTimestamp();
        if (request?.PatientId is not { } patientId || !ClinicalIds.IsPatientId(patientId))
        {
            return InvalidField("patient_id", $"'patient_id' must be {ClinicalIds.PatientIdShape}.");
        }

        var outcome = await grains.GetGrain<IScoringGrain>(0).ScoreAsync([patientId]);
        if (outcome.ModelVersion is not { } version)
        {
            return NoModel();
        }

        var score = outcome.Scores[0];
        if (!score.Found)
        {
            return TypedResults.Problem($"No data was ever accepted for patient {patientId}.", statusCode: StatusCodes.Status404NotFound, title: "Patient not found");
        }

        var (answer, pending) = Answer(score, version, started, thresholds.Value);
        if (!log.TryLog([pending]))
        {
            return LogFull(log);
        }

        metrics.Predicted(pending);
        return TypedResults.Ok(answer);
    }

    private static async Task<Results<Ok<BatchPredictionResponse>, ProblemHttpResult, ValidationProblem>> PredictBatchAsync(
        BatchPredictRequest? request, IGrainFactory grains, PredictionLog log, IOptions<RiskThresholds> thresholds, ClinicalMetrics metrics)
    {
        var started = Stopwatch.GetTimestamp();
        if (request?.PatientIds is not { Count: > 0 and <= MaxBatchPatients } ids)
        {
            return InvalidField("patient_ids", $"'patient_ids' must list 1 to {MaxBatchPatients} patients.");
        }

        var invalid = ids.Select((id, index) => (id, index)).Where(p => p.id is null || !ClinicalIds.IsPatientId(p.id)).ToList();
        if (invalid.Count > 0)
        {
            return TypedResults.ValidationProblem(
                invalid.ToDictionary(p => $"patient_ids[{p.index}]", _ => new[] { $"format: a patient_id is {ClinicalIds.PatientIdShape}." }),
                title: "Invalid patient_ids");
        }

        var outcome = await grains.GetGrain<IScoringGrain>(0).ScoreAsync([.. ids.Distinct(StringComparer.Ordinal)]);
        if (outcome.ModelVersion is not { } version)
        {
            return NoModel();
        }

        var answers = outcome.Scores.Where(s => s.Found).Select(s => Answer(s, version, started, thresholds.Value)).ToList();
        if (!log.TryLog([.. answers.Select(a => a.Pending)]))
        {
            return LogFull(log);
        }

        answers.ForEach(a => metrics.Predicted(a.Pending));
        return TypedResults.Ok(new BatchPredictionResponse(version, [.. answers.Select(a => a.Answer)], [.. outcome.Scores.Where(s => !s.Found).Select(s => s.PatientId)]));
    }

    private static async Task<Results<Ok<IReadOnlyList<LoggedPrediction>>, ValidationProblem>> ListAsync(
        ITrackingStore store, string? patient_id, int? limit, CancellationToken cancellationToken)
    {
        if (patient_id is not null && !ClinicalIds.IsPatientId(patient_id))
        {
            return InvalidField("patient_id", $"'patient_id' must be {ClinicalIds.PatientIdShape}.");
        }

        if (limit is < 1 or > 10_000)
        {
            return InvalidField("limit", "'limit' must be between 1 and 10000.");
        }

        var rows = await store.ReadPredictionsAsync(patient_id, limit ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<LoggedPrediction>>([.. rows.Select(r => new LoggedPrediction(
            r.Id, r.PatientId, r.Timestamp, r.PredictionScore, r.RiskLevel, r.ModelVersion, r.LatencyMs,
            new FeaturesUsed(r.FeatureVersion, r.FeaturesAsOf, $"/api/models/{r.ModelVersion}",
                [.. r.Features.Select(v => double.IsFinite(v) ? v : (double?)null)])))]);
    }

    /// <summary>The answer and its log record; an answer is given only once its record is queued (see <see cref="PredictionLog.TryLog"/>).</summary>
    private static (PredictionResponse Answer, PredictionRecord Pending) Answer(PatientScore score, string version, long started, RiskThresholds thresholds)
    {
        var risk = thresholds.Classify(score.Probability).ToString().ToUpperInvariant();
        var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return (new PredictionResponse(score.PatientId, score.Probability, risk, version, score.FeaturesAsOf),
            new PredictionRecord(Guid.NewGuid(), score.PatientId, DateTimeOffset.UtcNow, score.Probability, risk, version, latency,
                score.FeatureVersion, score.FeaturesAsOf, score.Features));
    }

    /// <summary>Every prediction answered must be logged: while the log database is away and the backlog is full, none is answered.</summary>
    private static ProblemHttpResult LogFull(PredictionLog log) => TypedResults.Problem(
        $"The prediction log ({log.Description}) is unavailable and {log.Pending} predictions already wait for it (the most it holds is {log.MaxPending}); retry later.",
        statusCode: StatusCodes.Status503ServiceUnavailable, title: "Prediction log full");

    private static ValidationProblem InvalidField(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: $"Invalid {field}");

    private static ProblemHttpResult NoModel() => TypedResults.Problem(
        "No model is in production: train one (dotnet run -c Release --project Trainer -- train --api-key KEY) and promote it (POST /api/models/{version}/promote).",
        statusCode: StatusCodes.Status503ServiceUnavailable, title: "No production model");
}

/// <summary>Body of <c>POST /predict</c>.</summary>
public sealed record PredictRequest(string? PatientId) : IAuditedRequest
{
    string? IAuditedRequest.AuditResource => PatientId is null ? null : $"patient/{PatientId}";
}

/// <summary>Body of <c>POST /predict/batch</c>.</summary>
public sealed record BatchPredictRequest(IReadOnlyList<string>? PatientIds) : IAuditedRequest
{
    string? IAuditedRequest.AuditResource => "patients";

    object? IAuditedRequest.AuditDetails => new { patient_ids = PatientIds };
}

/// <summary>One prediction.</summary>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="AdverseEventProbability">Probability of an adverse event within 24 h.</param>
/// <param name="RiskLevel">LOW, MEDIUM or HIGH under the configured thresholds.</param>
/// <param name="ModelVersion">The production model that scored it.</param>
/// <param name="FeaturesAsOf">The clinical time of the features scored.</param>
public sealed record PredictionResponse(string PatientId, double AdverseEventProbability, string RiskLevel, string ModelVersion, DateTimeOffset? FeaturesAsOf);

/// <summary>The answer to a batch: every known patient's prediction, and the patients with no data.</summary>
public sealed record BatchPredictionResponse(string ModelVersion, IReadOnlyList<PredictionResponse> Predictions, IReadOnlyList<string> NotFound);

/// <summary>A row of the prediction log.</summary>
public sealed record LoggedPrediction(
    Guid Id, string PatientId, DateTimeOffset Timestamp, double PredictionScore, string RiskLevel, string ModelVersion, double LatencyMs, FeaturesUsed FeaturesUsed);

/// <summary>The features a prediction scored.</summary>
/// <remarks>
/// The log keeps the values and the model version, not the names: /predict writes one row per answer on its hot path,
/// and with 856 features the names would add about 17 KB to every row for what the model's metadata already says
/// once. <see cref="FeatureList"/> is where the names are.
/// </remarks>
/// <param name="FeatureVersion">The feature catalogue version.</param>
/// <param name="AsOf">The clinical time of the features.</param>
/// <param name="FeatureList">The model version's description, whose <c>metadata.feature_names</c> names <see cref="Values"/> in order.</param>
/// <param name="Values">In the model's feature order; null for a missing value.</param>
public sealed record FeaturesUsed(string? FeatureVersion, DateTimeOffset? AsOf, string FeatureList, IReadOnlyList<double?> Values);
