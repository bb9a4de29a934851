using System.Diagnostics;
using ClinicalTrials.Api.Doctor;
using ClinicalTrials.Api.Fhir;
using ClinicalTrials.Api.Health;
using ClinicalTrials.Api.Predictions;
using ClinicalTrials.Api.Sdtm;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;

namespace ClinicalTrials.Api;

/// <summary>Registers and maps the whole HTTP gateway.</summary>
public static partial class ClinicalApi
{
    internal const string StorageUnavailableTitle = "Storage unavailable";
    internal const string StorageUnavailableDetail = "The messages could not be made durable and were not acknowledged. Retry later.";

    public static IServiceCollection AddClinicalApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<FailureToProblem>();
        services.AddOpenApi(o =>
        {
            SecurityExtensions.DescribeSecurity(o);
            ApiDescription.Describe(o);
        });
        services.AddClinicalSecurity();
        services.AddClinicalHealthChecks();
        services.AddSingleton<PipelineDoctor>();

        services.AddOptions<RiskThresholds>().BindConfiguration(RiskThresholds.Section)
            .Validate(t => t.IsValid, RiskThresholds.Rule)
            .ValidateOnStart();
        services.AddOptions<PredictionLogOptions>().BindConfiguration(PredictionLogOptions.Section)
            .Validate(o => o.MaxBatch > 0 && o.MaxPending >= PredictionApi.MaxBatchPatients,
                $"Predictions:Log:MaxBatch must be positive and MaxPending at least {PredictionApi.MaxBatchPatients} (one batch request).")
            .ValidateOnStart();

        // The prediction log and the experiment runs share one database: PostgreSQL when ConnectionStrings:Postgres
        // is set, else tracking.db under the data directory.
        services.AddSingleton(s => TrackingStore.Create(
            s.GetRequiredService<IConfiguration>().GetConnectionString("Postgres"),
            s.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory));
        services.AddSingleton<PredictionLog>();
        services.AddHostedService(s => s.GetRequiredService<PredictionLog>());

        // The EMR update runs when an endpoint is configured.
        services.AddOptions<EmrOptions>().BindConfiguration(EmrOptions.Section)
            .Validate(o => o.FhirEndpoint is null || o.FhirEndpoint.IsAbsoluteUri, "Emr:FhirEndpoint must be an absolute URL.")
            .ValidateOnStart();
        services.AddHostedService<EmrOutbox>();
        return services;
    }

    public static WebApplication MapClinicalApi(this WebApplication app)
    {
        app.Use(app.Services.GetRequiredService<ShutdownDrain>().CloseConnectionsWhileDrainingAsync);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHsts();
        app.UseSecurityHeaders();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        // Every endpoint of the gateway is mapped in this group, whose convention gives each its policy from the one
        // table (EndpointAccess); an endpoint mapped elsewhere gets the fallback policy (administrators only).
        var gateway = app.MapGroup("").WithEndpointAccess();
        gateway.MapOpenApi();
        // The page calls no outside service: no AI chat, no telemetry, no developer toolbar.
        gateway.MapScalarApiReference("/api/docs", o =>
        {
            o.WithTitle(ApiDescription.Title);
            o.Agent = new ScalarAgentOptions { Disabled = true };
            o.Telemetry = false;
            o.ShowDeveloperTools = DeveloperToolsVisibility.Never;
        });
        gateway.MapGet("/", () => TypedResults.Redirect("/api/docs")).ExcludeFromDescription();
        gateway.MapClinicalDataApi();
        gateway.MapHealthApi();
        gateway.MapRegistryApi();
        gateway.MapPredictionApi();
        gateway.MapModelsApi();
        gateway.MapMonitoringApi();
        gateway.MapPipelineApi();
        gateway.MapFhirApi();
        gateway.MapSdtmApi();
        gateway.MapSecurityApi();
        return app;
    }

    /// <summary>
    /// Failures that are not the client's fault still get a problem+json answer that says what to do:
    /// a journal that cannot commit is 503 (retry later; nothing was acknowledged), and so is a silo of the cluster that
    /// cannot be reached (<see cref="RetriableFailure"/>), a lake storage (S3) that
    /// cannot be reached (models, promotion, pipeline status) or a tracking database that is away (prediction log, runs).
    /// </summary>
    /// <remarks>
    /// ASP.NET Core does not log an exception that an <see cref="IExceptionHandler"/> handled, so this is the one place
    /// it is logged, with the trace id the answer carries. The route pattern is logged, not the path (which may hold an
    /// identifier); bodies never are.
    /// </remarks>
    private sealed partial class FailureToProblem(IProblemDetailsService problems, ILogger<FailureToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            var (status, title, detail) = exception switch
            {
                JournalUnavailableException => (StatusCodes.Status503ServiceUnavailable, StorageUnavailableTitle, StorageUnavailableDetail),
                _ when RetriableFailure.Is(exception) => (StatusCodes.Status503ServiceUnavailable, "Silo unavailable",
                    "A silo of the cluster could not be reached. Retry (any silo answers); a message stored before the failure is answered 'duplicate'."),
                LakeStorageUnavailableException lake => (StatusCodes.Status503ServiceUnavailable, "Lake storage unavailable",
                    $"{lake.Message} Retry later."),
                TrackingStoreUnavailableException tracking => (StatusCodes.Status503ServiceUnavailable, "Tracking database unavailable",
                    $"{tracking.Message} Retry later; predictions are logged once it returns."),
                AuditUnavailableException audit => (StatusCodes.Status503ServiceUnavailable, "Audit trail unavailable",
                    $"{audit.Message} Retry later: nothing is answered that is not audited, and a message stored meanwhile is answered duplicate."),
                BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message),
                _ => (StatusCodes.Status500InternalServerError, "Internal error", "An unexpected error occurred; it has been logged."),
            };
            var traceId = Activity.Current?.Id ?? context.TraceIdentifier;
            // The handler runs after the endpoint was cleared from the context; the feature keeps the one that failed.
            var route = (context.Features.Get<IExceptionHandlerFeature>()?.Endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(no endpoint)";
            LogFailure(logger, status >= 500 ? LogLevel.Error : LogLevel.Information, exception, context.Request.Method, route, status, traceId);

            context.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                Exception = exception,
                ProblemDetails = { Status = status, Title = title, Detail = detail, Extensions = { ["traceId"] = traceId } },
            });
        }

        [LoggerMessage(Message = "{Method} {Route} failed with {Status}; trace id {TraceId}")]
        private static partial void LogFailure(ILogger logger, LogLevel level, Exception exception, string method, string route, int status, string traceId);
    }
}
