using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api.Security;

/// <summary><c>/api/admin/keys</c> (administrators) and <c>/api/audit</c> (auditors).</summary>
public static class SecurityApi
{
    public const int MaxAuditPage = 1000;

    public static void MapSecurityApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/admin/keys").WithTags("Access");
        keys.MapGet("", ListKeysAsync).WithName("ListApiKeys").WithSummary("Every API key (never its secret): role, site, ingest-only, created, rotated, revoked.");
        keys.MapPost("", CreateKeyAsync).WithName("CreateApiKey")
            .WithSummary("Creates a key; the answer holds the key itself, shown this once (only its salted hash is stored).");
        keys.MapPost("/{keyId}/rotate", RotateKeyAsync).WithName("RotateApiKey").WithSummary("A new secret for the key; the old one stops working.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        keys.MapPost("/{keyId}/revoke", RevokeKeyAsync).WithName("RevokeApiKey").WithSummary("Revokes the key for good.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var audit = app.MapGroup("/api/audit").WithTags("Access");
        audit.MapGet("", QueryAuditAsync).WithName("GetAuditTrail")
            .WithSummary($"Audit records in order, filtered by from/to (ISO-8601 UTC), actor, action, resource; after= pages on (at most {MaxAuditPage} a page).");
        audit.MapGet("/verify", (AuditTrail trail, AuditCheckpointKey key, CancellationToken cancellationToken) => trail.VerifyAsync(key, cancellationToken))
            .WithName("VerifyAuditTrail")
            .WithSummary("Re-computes the hash chain and checks the signed checkpoints: valid, or the first record changed, removed or moved, or checkpoint that does not hold.");
        audit.MapGet("/checkpoints", ListCheckpointsAsync).WithName("GetAuditCheckpoints")
            .WithSummary($"The signed checkpoints in order (after= pages on, at most {MaxAuditPage} a page), with the key id and the public key (PEM) that verifies them.");
        audit.MapGet("/export", ExportAsync).WithName("ExportAuditTrail")
            .WithSummary("The records of a date range (from/to) as JSON lines, for an inspector.");
    }

    private static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListKeysAsync(ApiKeyStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListAsync(cancellationToken));

    private static async Task<Results<Created<IssuedKey>, ValidationProblem>> CreateKeyAsync(
        ApiKeyRequest? request, ApiKeyStore store, HttpContext http, CancellationToken cancellationToken)
    {
        request ??= new ApiKeyRequest(null, null, null);
        if (request.Problems() is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid key request");
        }

        var issued = await store.CreateAsync(request, EndpointAccess.Actor(http), Source(http), cancellationToken: cancellationToken);
        return TypedResults.Created($"/api/admin/keys/{issued.Info.KeyId}", issued);
    }

    private static async Task<Results<Ok<IssuedKey>, ProblemHttpResult>> RotateKeyAsync(
        string keyId, ApiKeyStore store, ApiKeyDirectory directory, HttpContext http, CancellationToken cancellationToken)
    {
        var issued = await store.RotateAsync(keyId, EndpointAccess.Actor(http), Source(http), cancellationToken);
        directory.Forget(keyId);
        return issued is null ? NoKey(keyId) : TypedResults.Ok(issued);
    }

    private static async Task<Results<Ok<ApiKeyInfo>, ProblemHttpResult>> RevokeKeyAsync(
        string keyId, ApiKeyStore store, ApiKeyDirectory directory, HttpContext http, CancellationToken cancellationToken)
    {
        var revoked = await store.RevokeAsync(keyId, EndpointAccess.Actor(http), Source(http), cancellationToken);
        directory.Forget(keyId);
        return revoked is null ? NoKey(keyId) : TypedResults.Ok(revoked);
    }

    private static async Task<Results<Ok<IReadOnlyList<AuditRecord>>, ValidationProblem>> QueryAuditAsync(
        string? from, string? to, string? actor, string? action, string? resource, long? after, int? limit, AuditTrail trail, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var query = new AuditQuery(Time(from, "from", errors), Time(to, "to", errors), actor, action, resource, after ?? 0, Math.Clamp(limit ?? 100, 1, MaxAuditPage));
        return errors.Count > 0 ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(await trail.QueryAsync(query, cancellationToken));
    }

    private static async Task<Ok<AuditCheckpointList>> ListCheckpointsAsync(long? after, int? limit, AuditCheckpoints checkpoints, CancellationToken cancellationToken) =>
        TypedResults.Ok(await checkpoints.ListAsync(after ?? 0, Math.Clamp(limit ?? 100, 1, MaxAuditPage), cancellationToken));

    private static async Task<IResult> ExportAsync(string? from, string? to, AuditTrail trail, HttpResponse response, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var (start, end) = (Time(from, "from", errors), Time(to, "to", errors));
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        response.ContentType = "application/x-ndjson";
        long after = 0;
        while (true)
        {
            var page = await trail.QueryAsync(new AuditQuery(start, end, null, null, null, after, MaxAuditPage), cancellationToken);
            foreach (var record in page)
            {
                await response.WriteAsync(JsonSerializer.Serialize(record, ApiJson.Options) + "\n", cancellationToken);
            }

            if (page.Count < MaxAuditPage)
            {
                return TypedResults.Empty;
            }

            after = page[^1].Seq;
        }
    }

    private static DateTimeOffset? Time(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        errors[field] = [$"format: '{field}' must be an ISO-8601 time or date (UTC when it has no offset)."];
        return null;
    }

    private static string? Source(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();

    private static ProblemHttpResult NoKey(string keyId) =>
        TypedResults.Problem($"No key has the id '{keyId}'.", statusCode: StatusCodes.Status404NotFound, title: "Key not found");
}
