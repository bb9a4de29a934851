using ClinicalTrials.Streams.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using CheckStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;

namespace ClinicalTrials.Api.Health;

/// <summary>
/// The probes, all from the checks of <see cref="ClinicalHealthChecks"/>: <c>/health/live</c> (the process answers; runs
/// no check), <c>/health/ready</c> (503 when this silo cannot take data in, or is stopping: <see cref="ShutdownDrain"/>),
/// and <c>GET /api/clinical/health</c>, every component's status and detail as JSON; 503 exactly when ready is.
/// </summary>
public static class HealthApi
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";

    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false }).WithTags("Operations");
        app.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(ClinicalHealthChecks.Ready) })
            .WithTags("Operations");
        app.MapGet("/api/clinical/health", GetHealthAsync).WithTags("Operations").WithName("GetHealth")
            .WithSummary("Per-component health: journal, grains, shutdown, disk, online_store, model, prediction_log, kafka.");
    }

    private static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> GetHealthAsync(HealthCheckService checks, CancellationToken cancellationToken)
    {
        var checkedReport = await checks.CheckHealthAsync(cancellationToken);
        var components = checkedReport.Entries.ToDictionary(e => e.Key, e => new ComponentHealth(StatusOf(e.Value), e.Value.Description ?? "",
            e.Value.Data.GetValueOrDefault(ClinicalHealthChecks.PartitionsKey) as IReadOnlyList<PartitionLag>));
        var report = new HealthReport(StatusOf(checkedReport.Status), DateTimeOffset.UtcNow, components);
        return report.Status == HealthStatus.Unhealthy
            ? TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(report);
    }

    private static HealthStatus StatusOf(HealthReportEntry entry) =>
        entry.Data.ContainsKey(ClinicalHealthChecks.DisabledKey) ? HealthStatus.Disabled : StatusOf(entry.Status);

    private static HealthStatus StatusOf(CheckStatus status) => status switch
    {
        CheckStatus.Healthy => HealthStatus.Healthy,
        CheckStatus.Degraded => HealthStatus.Degraded,
        _ => HealthStatus.Unhealthy,
    };
}

public enum HealthStatus
{
    Healthy,
    Degraded,
    Unhealthy,

    /// <summary>A component that is not configured; it does not count towards the overall status.</summary>
    Disabled,
}

/// <summary>One component's status; for Kafka also each partition's committed offset, high watermark and lag.</summary>
public sealed record ComponentHealth(
    HealthStatus Status,
    string Detail,
    IReadOnlyList<PartitionLag>? Partitions = null);

public sealed record HealthReport(HealthStatus Status, DateTimeOffset CheckedAt, IReadOnlyDictionary<string, ComponentHealth> Components);
