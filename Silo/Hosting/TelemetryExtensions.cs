using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Streams.Kafka;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// Metrics for Prometheus at <c>/metrics</c> on every silo (ours, Orleans', ASP.NET Core's and the runtime's), and
/// traces exported by OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: one trace per request through the gateway,
/// the grain calls (Orleans propagates the activity) and the journal commit. Without an endpoint no span is created.
/// Console logs are JSON lines with trace_id and message_id fields when <c>Logging:Console:FormatterName=json</c>
/// (<see cref="JsonLogFormatter"/>).
/// </summary>
public static class TelemetryExtensions
{
    public const string MetricsPath = "/metrics";

    /// <summary>The standard OpenTelemetry setting; the exporter reads its other OTEL_EXPORTER_OTLP_* settings itself.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private static readonly string[] Meters =
    [
        ClinicalMetrics.MeterName,
        KafkaConsumerLag.MeterName,
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Runtime",
    ];

    public static bool TracesExported(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    public static WebApplicationBuilder AddClinicalTelemetry(this WebApplicationBuilder builder)
    {
        JsonLogFormatter.Use(builder.Logging);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("clinicaltrials-silo"))
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        if (TracesExported(builder.Configuration))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(ClinicalTracing.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                .AddOtlpExporter());
        }

        return builder;
    }

    public static WebApplication MapClinicalMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath).WithEndpointAccess();
        return app;
    }
}
