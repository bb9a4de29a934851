using ClinicalTrials.Grains.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Scalar.AspNetCore;

namespace ClinicalTrials.Api;

/// <summary>Registers and maps the whole HTTP gateway.</summary>
public static class ClinicalApi
{
    public static IServiceCollection AddClinicalApi(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<FailureToProblem>();
        services.AddOpenApi();
        return services;
    }

    public static WebApplication MapClinicalApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();
        app.MapScalarApiReference("/api/docs", o => o.WithTitle("ClinicalTrials API"));
        app.MapGet("/", () => TypedResults.Redirect("/api/docs")).ExcludeFromDescription();
        app.MapClinicalDataApi();
        app.MapHealthApi();
        app.MapRegistryApi();
        app.MapPipelineApi();
        return app;
    }

    /// <summary>
    /// Failures that are not the client's fault still get a problem+json answer that says what to do:
    /// a journal that cannot commit is 503 (retry later; nothing was acknowledged).
    /// </summary>
    private sealed class FailureToProblem(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            var (status, title, detail) = exception switch
            {
                JournalUnavailableException => (StatusCodes.Status503ServiceUnavailable, "Storage unavailable",
                    "The messages could not be made durable and were not acknowledged. Retry later."),
                BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message),
                _ => (StatusCodes.Status500InternalServerError, "Internal error", "An unexpected error occurred; it has been logged."),
            };
            context.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                Exception = exception,
                ProblemDetails = { Status = status, Title = title, Detail = detail },
            });
        }
    }
}
