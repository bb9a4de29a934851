using System.Globalization;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary>
/// <c>/api/monitoring</c>: the model monitoring job's reports (latest, the runs, a run now) and the ground truth it gives
/// the prediction log (docs/monitoring.md).
/// </summary>
public static class MonitoringApi
{
    public const int MaxOutcomes = 10_000;

    public static void MapMonitoringApi(this IEndpointRouteBuilder app)
    {
        var monitoring = app.MapGroup("/api/monitoring").WithTags("Monitoring");
        monitoring.MapGet("/", LatestAsync).WithName("LatestMonitoring")
            .WithSummary("The latest successful monitoring run's report: per model version performance on labelled predictions, drift, alerts.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        monitoring.MapGet("/runs", ListRunsAsync).WithName("ListMonitoringRuns")
            .WithSummary("Monitoring runs, newest first, with status, error and their alerts.");
        monitoring.MapGet("/runs/{runId}/report.md", (ITrackingStore store, string runId, CancellationToken cancellationToken) =>
                DocumentAsync(store, runId, MonitoringDocuments.Markdown, "text/markdown; charset=utf-8", cancellationToken))
            .WithName("MonitoringRunMarkdown")
            .WithSummary("A monitoring run's Markdown report: metrics with confidence intervals, alerts, top drifting features, reliability table.")
            .Produces<string>(StatusCodes.Status200OK, "text/markdown")
            .ProducesProblem(StatusCodes.Status404NotFound);
        monitoring.MapGet("/runs/{runId}/report.png", (ITrackingStore store, string runId, CancellationToken cancellationToken) =>
                DocumentAsync(store, runId, MonitoringDocuments.Png, "image/png", cancellationToken))
            .WithName("MonitoringRunFigure")
            .WithSummary("A monitoring run's PNG: per model version AUROC over the runs, the reliability diagram and the top drifting features' histograms.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .ProducesProblem(StatusCodes.Status404NotFound);
        monitoring.MapPost("/run", RunAsync).WithName("RunMonitoring")
            .WithSummary("Labels the prediction log and measures every serving model version now; answers with the run when it ends.");
        monitoring.MapGet("/outcomes", OutcomesAsync).WithName("ListOutcomes")
            .WithSummary("Labelled predictions made in [from, to) (default: the last 7 days), newest first, each with its label history.");
    }

    private static async Task<Results<Ok<MonitoringReport>, ProblemHttpResult>> LatestAsync(ITrackingStore store, CancellationToken cancellationToken)
    {
        // Failed runs have no report; the latest report is the latest successful run's.
        var runs = await store.ListMonitoringRunsAsync(50, cancellationToken);
        return runs.FirstOrDefault(r => r.Report is not null) is { Report: { } report }
            ? TypedResults.Ok(MonitoringReport.FromJson(report))
            : TypedResults.Problem("No monitoring run has succeeded yet: POST /api/monitoring/run, or wait for the schedule.",
                statusCode: StatusCodes.Status404NotFound, title: "No monitoring report");
    }

    private static async Task<Results<Ok<IReadOnlyList<MonitoringRunResponse>>, ValidationProblem>> ListRunsAsync(
        ITrackingStore store, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return Invalid("limit", "'limit' must be between 1 and 1000.");
        }

        var runs = await store.ListMonitoringRunsAsync(limit ?? 50, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<MonitoringRunResponse>>([.. runs.Select(MonitoringRunResponse.From)]);
    }

    /// <summary>A stored document of a run; 404 for an unknown run, or a failed one (it has no report).</summary>
    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> DocumentAsync(
        ITrackingStore store, string runId, string name, string contentType, CancellationToken cancellationToken) =>
        await store.ReadMonitoringDocumentAsync(runId, name, cancellationToken) is { } content
            ? TypedResults.File(content, contentType)
            : TypedResults.Problem($"Monitoring run '{runId}' has no {name}: there is no such run, or it failed (GET /api/monitoring/runs lists them).",
                statusCode: StatusCodes.Status404NotFound, title: "No monitoring report");

    private static async Task<Ok<MonitoringRunResponse>> RunAsync(IGrainFactory grains, ITrackingStore store, CancellationToken cancellationToken)
    {
        var runId = await grains.GetGrain<IModelMonitorGrain>("default").RunAsync();
        var run = (await store.ListMonitoringRunsAsync(50, cancellationToken)).First(r => r.RunId == runId);
        return TypedResults.Ok(MonitoringRunResponse.From(run));
    }

    private static async Task<Results<Ok<IReadOnlyList<LabelledPrediction>>, ValidationProblem>> OutcomesAsync(
        ITrackingStore store, TimeProvider clock, string? model_version, string? from, string? to, int? limit, CancellationToken cancellationToken)
    {
        if (model_version is not null && !ModelArtifacts.IsValidVersion(model_version))
        {
            return Invalid("model_version", "'model_version' must be 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit.");
        }

        if (limit is < 1 or > MaxOutcomes)
        {
            return Invalid("limit", $"'limit' must be between 1 and {MaxOutcomes}.");
        }

        var now = clock.GetUtcNow();
        if (!TryTime(to, now, out var end))
        {
            return Invalid("to", "'to' must be an ISO-8601 date or time, e.g. 2026-11-26 or 2026-11-26T09:00:00Z.");
        }

        if (!TryTime(from, end - TimeSpan.FromDays(7), out var start))
        {
            return Invalid("from", "'from' must be an ISO-8601 date or time, e.g. 2026-11-19 or 2026-11-19T09:00:00Z.");
        }

        if (start >= end)
        {
            return Invalid("to", "'to' must be after 'from'.");
        }

        return TypedResults.Ok(await store.ReadOutcomesAsync(model_version, start, end, limit ?? 1000, cancellationToken));
    }

    /// <summary>An ISO-8601 date (midnight UTC) or time (UTC without an offset); <paramref name="fallback"/> when absent.</summary>
    private static bool TryTime(string? text, DateTimeOffset fallback, out DateTimeOffset time)
    {
        time = fallback;
        return text is null || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: $"Invalid {field}");
}

/// <summary>One monitoring run: its status, and for a successful run its report.</summary>
public sealed record MonitoringRunResponse(string RunId, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Status, string? Error, MonitoringReport? Report)
{
    public static MonitoringRunResponse From(MonitoringRunRecord run) =>
        new(run.RunId, run.StartedAt, run.FinishedAt, run.Status, run.Error, run.Report is null ? null : MonitoringReport.FromJson(run.Report));
}
