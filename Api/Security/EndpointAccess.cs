using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Security;

/// <summary>Who may call an endpoint, and what to write in the audit trail when it is called (null: nothing).</summary>
public sealed record Access(string Policy, string? AuditAction = null);

/// <summary>
/// The one place that says who may call each endpoint: a table from method and route pattern to a policy (and, for
/// reads of patient data, model changes and job runs, the audit action). <see cref="WithEndpointAccess"/> applies it to
/// every endpoint of a route group when the endpoints are built. An endpoint the table does not name falls to the
/// fallback policy (administrators only), and <c>EndpointAccessTests</c> fails for it.
/// </summary>
public static class EndpointAccess
{
    /// <summary>No credential needed: the probes the orchestrator calls without one.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>Send data: a site key (for its own site) or an administrator.</summary>
    public const string Ingest = "ingest";

    /// <summary>A message's status, a site's counts or patient ids: its own site's key (unless ingest-only), data managers.</summary>
    public const string SiteRead = "site-read";

    /// <summary>Patient-level data: data managers.</summary>
    public const string PatientRead = "patient-read";

    /// <summary>Predictions: data managers and ML engineers.</summary>
    public const string Predict = "predict";

    /// <summary>Operating views without patient data (stats, health, metrics, jobs, dashboard, API description): staff.</summary>
    public const string Operations = "operations";

    /// <summary>Models, runs and lake jobs: ML engineers.</summary>
    public const string Models = "models";

    /// <summary>Keys and configuration: administrators.</summary>
    public const string Admin = "admin";

    /// <summary>The audit trail: auditors.</summary>
    public const string Audit = "audit";

    private static readonly Dictionary<string, Access> Table = new(StringComparer.Ordinal)
    {
        ["* /health/live"] = new(Anonymous),
        // The kubelet's readiness probe sends no credential; the answer is one word, Healthy or Unhealthy.
        ["* /health/ready"] = new(Anonymous),

        // Every message received, with its id, site and outcome (ReceivedMessages), under the caller's key.
        ["POST /api/clinical/data"] = new(Ingest, "data.receive"),
        ["POST /api/clinical/data/batch"] = new(Ingest, "data.receive"),
        ["POST /fhir/Bundle"] = new(Ingest, "data.receive"),
        ["POST /api/import/sdtm"] = new(Ingest, "data.receive"),

        ["GET /api/clinical/messages/{messageId}"] = new(SiteRead),
        ["GET /api/sites/{siteId}"] = new(SiteRead),
        ["GET /api/sites"] = new(SiteRead),
        // Pseudonymous ids only, no values; audited since it says who is in the trial.
        ["GET /api/patients"] = new(SiteRead, "patient.list"),

        ["GET /api/patients/{patientId}"] = new(PatientRead, "patient.read"),
        ["GET /api/patients/{patientId}/features"] = new(PatientRead, "patient.features.read"),
        ["GET /fhir/Patient/{patientId}/$everything"] = new(PatientRead, "patient.fhir.read"),
        ["GET /api/export/sdtm"] = new(PatientRead, "patient.sdtm.export"),

        ["POST /predict"] = new(Predict, "prediction.request"),
        ["POST /predict/batch"] = new(Predict, "prediction.request"),
        ["GET /api/predictions"] = new(Predict, "prediction.log.read"),
        ["GET /api/monitoring/outcomes"] = new(Predict, "prediction.outcomes.read"),

        ["GET /api/clinical/stats"] = new(Operations),
        ["GET /api/clinical/health"] = new(Operations),
        ["GET /api/pipeline/jobs"] = new(Operations),
        ["GET /api/pipeline/status"] = new(Operations),
        ["GET /api/pipeline/doctor"] = new(Operations),
        ["* /metrics"] = new(Operations),
        ["GET /"] = new(Operations),
        ["GET /openapi/{documentName}.json"] = new(Operations),
        ["GET /api/docs/{documentName?}"] = new(Operations),
        ["GET /api/schemas/clinical-message.json"] = new(Operations),
        // The API page's own script and icon: Scalar maps them anonymous itself (its convention runs after ours); they
        // are the library's files, the same for everyone, and show nothing of the platform.
        ["GET /api/docs/scalar.js"] = new(Anonymous),
        ["GET /api/docs/scalar.aspnetcore.js"] = new(Anonymous),
        ["GET /api/docs/favicon.svg"] = new(Anonymous),

        ["GET /api/models/"] = new(Models),
        ["POST /api/models/"] = new(Models, "model.upload"),
        ["POST /api/models/{version}/promote"] = new(Models, "model.promote"),
        ["POST /api/models/rollback"] = new(Models, "model.rollback"),
        ["POST /api/models/retrain"] = new(Models, "model.retrain"),
        ["GET /api/models/decisions"] = new(Models),
        ["GET /api/models/runs"] = new(Models),
        ["GET /api/models/{version}"] = new(Models),
        ["GET /api/models/{version}/artifacts/{name}"] = new(Models),
        ["POST /api/pipeline/jobs/{name}/run"] = new(Models, "job.run"),
        ["GET /api/monitoring/"] = new(Models),
        ["GET /api/monitoring/runs"] = new(Models),
        ["GET /api/monitoring/runs/{runId}/report.md"] = new(Models),
        ["GET /api/monitoring/runs/{runId}/report.png"] = new(Models),
        ["POST /api/monitoring/run"] = new(Models, "monitoring.run"),

        // Key changes are audited with their before and after by ApiKeyStore, in the change's own transaction.
        ["GET /api/admin/keys/"] = new(Admin),
        ["POST /api/admin/keys/"] = new(Admin),
        ["POST /api/admin/keys/{keyId}/rotate"] = new(Admin),
        ["POST /api/admin/keys/{keyId}/revoke"] = new(Admin),

        ["GET /api/audit/"] = new(Audit),
        ["GET /api/audit/verify"] = new(Audit, "audit.verify"),
        ["GET /api/audit/export"] = new(Audit, "audit.export"),
        ["GET /api/audit/checkpoints"] = new(Audit),
    };

    /// <summary>The Orleans Dashboard's own endpoints (its page, scripts and data) all share one rule.</summary>
    private static readonly Access Dashboard = new(Operations);

    private const string DashboardPrefix = "/dashboard";

    /// <summary>The entry for an endpoint, or null when the table does not name it.</summary>
    public static Access? For(IReadOnlyList<string>? methods, string? pattern)
    {
        if (pattern is null)
        {
            return null;
        }

        if (pattern.StartsWith(DashboardPrefix, StringComparison.Ordinal))
        {
            return Dashboard;
        }

        var keys = methods is null or { Count: 0 } ? ["*"] : methods;
        var found = keys.Select(m => Table.GetValueOrDefault($"{m} {pattern}")).Distinct().ToList();
        return found is [{ } one] ? one : null;
    }

    /// <summary>The endpoint's entry by its metadata and route pattern.</summary>
    public static Access? For(RouteEndpoint endpoint) =>
        For(endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods, endpoint.RoutePattern.RawText);

    /// <summary>Applies the table to every endpoint this builder builds: its policy, and the audit filter where the entry names an action.</summary>
    public static TBuilder WithEndpointAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            if (endpoint is not RouteEndpointBuilder route
                || For(route.Metadata.OfType<HttpMethodMetadata>().LastOrDefault()?.HttpMethods, route.RoutePattern.RawText) is not { } access)
            {
                return; // The fallback policy applies.
            }

            endpoint.Metadata.Add(access.Policy == Anonymous ? new AllowAnonymousAttribute() : new AuthorizeAttribute(access.Policy));
            if (access.AuditAction is { } action)
            {
                endpoint.FilterFactories.Add((_, next) => invocation => AuditedAsync(invocation, next, action));
            }
        });
        return builder;
    }

    /// <summary>The policies of the table, each by the roles it admits; <c>admin</c> passes all.</summary>
    public static void AddPolicies(AuthorizationOptions options)
    {
        void Policy(string name, params string[] roles) => options.AddPolicy(name, p => p.RequireRole([.. roles, Roles.Admin]));
        Policy(Ingest, Roles.Site);
        options.AddPolicy(SiteRead, p => p
            .RequireRole(Roles.Site, Roles.DataManager, Roles.Admin)
            .RequireAssertion(c => !c.User.HasClaim(ClinicalClaims.Scope, ClinicalClaims.IngestOnly)));
        Policy(PatientRead, Roles.DataManager);
        Policy(Predict, Roles.DataManager, Roles.MlEngineer);
        Policy(Operations, Roles.DataManager, Roles.MlEngineer);
        Policy(Models, Roles.MlEngineer);
        Policy(Admin);
        Policy(Audit, Roles.Auditor);
        options.FallbackPolicy = options.GetPolicy(Admin);
    }

    private static async ValueTask<object?> AuditedAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next, string action)
    {
        var http = invocation.HttpContext;
        var trail = http.RequestServices.GetRequiredService<AuditTrail>();
        object? result;
        try
        {
            result = await next(invocation);
        }
        catch (Exception)
        {
            await trail.AppendAsync(Entry(invocation, action, "error"));
            throw;
        }

        var status = ((result as INestedHttpResult)?.Result ?? result) is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        // Durable before the answer leaves: the result is written only after this returns.
        await trail.AppendAsync(Entry(invocation, action, status.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return result;
    }

    private static AuditEntry Entry(EndpointFilterInvocationContext invocation, string action, string outcome)
    {
        var http = invocation.HttpContext;
        var audited = invocation.Arguments.OfType<IAuditedRequest>().FirstOrDefault();
        var received = http.Features.Get<ReceivedMessages>();
        var resource = audited?.AuditResource ?? ResourceOf(http.Request.RouteValues) ?? ResourceOf(http.Request.Query) ?? received?.Resource;
        var details = new Dictionary<string, object?>();
        if (audited?.AuditDetails is { } more)
        {
            details["request"] = more;
        }

        if (received is not null)
        {
            details["messages"] = received.BySite;
        }

        foreach (var (name, value) in http.Request.Query)
        {
            details[name] = value.ToString();
        }

        if (http.Request.Headers[ReasonHeader].ToString() is { Length: > 0 } reason)
        {
            details["reason"] = reason;
        }

        return new AuditEntry(Actor(http), action, resource, outcome, http.Connection.RemoteIpAddress?.ToString(),
            details.Count == 0 ? null : JsonSerializer.Serialize(details, ApiJson.Options));
    }

    /// <summary>Why a change was made (21 CFR Part 11): optional, recorded with the action.</summary>
    public const string ReasonHeader = "X-Audit-Reason";

    /// <summary>Who: the credential's subject.</summary>
    public static string Actor(HttpContext http) => http.User.FindFirst(ClinicalClaims.Subject)?.Value ?? "anonymous";

    private static string? ResourceOf(IEnumerable<KeyValuePair<string, object?>> values) =>
        values.Select(v => v.Key switch
        {
            "patientId" => $"patient/{v.Value}",
            "version" => $"model/{v.Value}",
            "name" => $"job/{v.Value}",
            _ => null,
        }).FirstOrDefault(r => r is not null);

    private static string? ResourceOf(IQueryCollection query) =>
        query.TryGetValue("patient_id", out var patient) ? $"patient/{patient}" : null;
}

/// <summary>A request body that names the resource it acts on, for the audit trail (a patient id, a model version).</summary>
public interface IAuditedRequest
{
    /// <summary>The resource, e.g. <c>patient/PT12AB34CD</c>; null when the body does not name one.</summary>
    string? AuditResource { get; }

    /// <summary>More the record should carry (the patient ids of a batch); never patient values.</summary>
    object? AuditDetails => null;
}
