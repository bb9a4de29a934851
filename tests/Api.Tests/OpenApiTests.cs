using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// What a client generator sees: the OpenAPI document's title, the message contract as the ingest endpoints' request
/// schema, and the statuses each endpoint lists. The schema itself is judged against the parser in Domain.Tests
/// (ClinicalMessageSchemaTests).
/// </summary>
public sealed class OpenApiTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>
    /// Statuses the tests observe from each endpoint (IngestApiTests, BatchApiTests, QueryApiTests, PatientListTests,
    /// PredictionApiTests, ModelRegistryTests, RetrainingTests, MonitoringApiTests, FhirApiTests, SdtmImportTests, PipelineApiTests, EndpointAccessTests,
    /// DurabilityTests); the document must list each.
    /// </summary>
    public static TheoryData<string, string, int[]> Observed() => new()
    {
        { "post", "/api/clinical/data", [200, 202, 400, 401, 403, 413, 503] },
        { "post", "/api/clinical/data/batch", [200, 400, 401, 403, 413, 503] },
        { "get", "/api/clinical/messages/{messageId}", [200, 400, 401, 403, 404] },
        { "get", "/api/patients", [200, 400, 401, 403] },
        { "get", "/api/patients/{patientId}", [200, 400, 401, 403, 404] },
        { "get", "/api/sites", [200, 401, 403] },
        { "get", "/api/sites/{siteId}", [200, 400, 401, 403, 404] },
        { "post", "/predict", [200, 400, 401, 403, 404, 503] },
        { "post", "/api/models", [200, 201, 400, 401, 403, 409] },
        { "post", "/api/models/{version}/promote", [200, 401, 403, 404, 409] },
        { "post", "/api/models/retrain", [200, 401, 403, 409] },
        { "get", "/api/models/decisions", [200, 400, 401, 403] },
        { "get", "/api/models/{version}", [200, 400, 401, 403, 404] },
        { "get", "/api/models/{version}/artifacts/{name}", [200, 400, 401, 403, 404] },
        { "get", "/api/monitoring/runs/{runId}/report.md", [200, 401, 403, 404] },
        { "get", "/api/monitoring/runs/{runId}/report.png", [200, 401, 403, 404] },
        { "post", "/fhir/Bundle", [200, 400, 401, 403, 413, 503] },
        { "get", "/fhir/Patient/{patientId}/$everything", [200, 401, 403, 404] },
        { "post", "/api/import/sdtm", [200, 400, 401, 403, 413] },
        { "post", "/api/pipeline/jobs/{name}/run", [200, 401, 403, 404] },
        { "post", "/api/admin/keys/{keyId}/revoke", [200, 401, 403, 404] },
    };

    [Theory]
    [MemberData(nameof(Observed))]
    public async Task Each_endpoint_documents_the_statuses_it_answers(string method, string path, int[] statuses)
    {
        var document = await DocumentAsync();
        var responses = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");
        var listed = responses.EnumerateObject().Select(r => int.Parse(r.Name, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Superset(statuses.ToHashSet(), listed);
    }

    [Fact]
    public async Task The_document_has_a_title_and_description_and_every_guarded_endpoint_lists_401_and_403()
    {
        var document = await DocumentAsync();
        Assert.Equal(ApiDescription.Title, document.GetProperty("info").GetProperty("title").GetString());
        Assert.Contains(ApiDescription.MessageSchemaPath, document.GetProperty("info").GetProperty("description").GetString());

        var missing = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => !p.Name.StartsWith("/health/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var responses = operation.Value.GetProperty("responses");
                missing.AddRange(new[] { "401", "403" }.Where(s => !responses.TryGetProperty(s, out _)).Select(s => $"{operation.Name} {path.Name}: {s}"));
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public async Task Both_ingest_endpoints_take_the_message_contract_as_their_request_body()
    {
        var document = await DocumentAsync();
        var paths = document.GetProperty("paths");
        var single = paths.GetProperty("/api/clinical/data").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.Equal($"#/components/schemas/{ApiDescription.MessageSchemaName}", single.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var batch = paths.GetProperty("/api/clinical/data/batch").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        var array = batch.GetProperty("application/json").GetProperty("schema");
        Assert.Equal("array", array.GetProperty("type").GetString());
        Assert.Equal($"#/components/schemas/{ApiDescription.MessageSchemaName}", array.GetProperty("items").GetProperty("$ref").GetString());
        Assert.True(batch.TryGetProperty("application/x-ndjson", out _));

        // The component is the served schema.
        var component = document.GetProperty("components").GetProperty("schemas").GetProperty(ApiDescription.MessageSchemaName);
        var served = await ServedSchemaAsync();
        Assert.Equal(ClinicalMessageSchema.EnvelopeRequired, component.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(
            served["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal),
            component.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_schema_is_served_as_the_domain_builds_it()
    {
        Assert.True(JsonNode.DeepEquals(ClinicalMessageSchema.Build(), await ServedSchemaAsync()));
    }

    private async Task<JsonElement> DocumentAsync() =>
        await (await app.Http.GetAsync("/openapi/v1.json", Cancellation)).ExpectAsync(200);

    private async Task<JsonObject> ServedSchemaAsync()
    {
        using var response = await app.Http.GetAsync(ApiDescription.MessageSchemaPath, Cancellation);
        Assert.Equal("application/schema+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancellation))!.AsObject();
    }
}
