using ClinicalTrials.Domain.Validation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ClinicalTrials.Api;

/// <summary>
/// What the OpenAPI document says beyond what the endpoints' types say: its title and description, the clinical
/// message contract (<see cref="ClinicalMessageSchema"/>) as the ingest endpoints' request body, and the statuses every
/// endpoint can answer whatever it does (401 and 403 from access control, 429 from the rate limit, 503 when a silo or a store is away).
/// Statuses particular to an endpoint (404, 409, 413) are declared where it is mapped.
/// </summary>
public static class ApiDescription
{
    public const string Title = "ClinicalTrials API";

    /// <summary>Where the message contract is served, and its name among the document's schemas.</summary>
    public const string MessageSchemaPath = "/api/schemas/clinical-message.json";

    public const string MessageSchemaName = "ClinicalMessage";

    /// <summary>The ingest endpoints whose body is the message contract: one message, or a batch of them.</summary>
    private const string PostMessage = "PostClinicalMessage";
    private const string PostBatch = "PostClinicalBatch";

    public static void Describe(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = Title;
            document.Info.Description =
                "Takes in clinical-trial data (clinical messages over HTTP, FHIR bundles, SDTM datasets), answers 202 only once a "
                + "message is durable, follows each message through bronze and silver, and serves adverse-event risk predictions "
                + "with the model registry and its monitoring. Every call needs an API key (X-Api-Key) or a staff token (Bearer); "
                + $"a site's key acts for its own site only. The message contract is the JSON Schema at {MessageSchemaPath}.";
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            document.Components.Schemas[MessageSchemaName] = MessageSchema();
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var name = metadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
            if (name is PostMessage or PostBatch)
            {
                operation.RequestBody = MessageBody(context.Document!, name == PostBatch);
            }

            operation.Responses ??= [];
            if (!metadata.OfType<IAllowAnonymous>().Any())
            {
                Add(operation, StatusCodes.Status401Unauthorized, "No credential, or one that is unknown, revoked or expired.");
                Add(operation, StatusCodes.Status403Forbidden, "The credential's role may not call this endpoint, or it is another site's data.");
                Add(operation, StatusCodes.Status503ServiceUnavailable, "A silo, the journal or a store is unavailable; nothing was changed. Retry later.");
            }

            Add(operation, StatusCodes.Status429TooManyRequests, "Over the caller's rate limit (Security:RateLimit); nothing was done. Retry after Retry-After seconds.");

            return Task.CompletedTask;
        });
    }

    /// <summary>The contract as the document's schema object (OpenAPI 3.1 schemas are JSON Schema 2020-12).</summary>
    private static OpenApiSchema MessageSchema()
    {
        var json = ClinicalMessageSchema.Build();
        json.Remove("$schema"); // the document's own dialect applies
        return OpenApiModelFactory.Parse<OpenApiSchema>(json.ToJsonString(), OpenApiSpecVersion.OpenApi3_1, new OpenApiDocument(), out _, "json")
            ?? throw new InvalidOperationException("The clinical message schema could not be read as an OpenAPI schema.");
    }

    private static OpenApiRequestBody MessageBody(OpenApiDocument document, bool batch)
    {
        var message = new OpenApiSchemaReference(MessageSchemaName, document);
        var content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/json"] = new() { Schema = batch ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = message } : message },
        };
        if (batch)
        {
            content["application/x-ndjson"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = $"One {MessageSchemaName} per line." } };
        }

        return new OpenApiRequestBody
        {
            Required = true,
            Description = batch ? $"A JSON array of {MessageSchemaName}, or NDJSON (one per line)." : $"One {MessageSchemaName}.",
            Content = content,
        };
    }

    private static void Add(OpenApiOperation operation, int status, string description)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!operation.Responses!.ContainsKey(key))
        {
            operation.Responses[key] = new OpenApiResponse { Description = description };
        }
    }
}
