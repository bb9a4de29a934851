using System.Text.RegularExpressions;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary><c>/api/models</c>: the model registry (versions, stages, promotion, rollback) and the experiment runs.</summary>
public static partial class ModelsApi
{
    /// <summary>Largest accepted model upload (all artifacts, base64 in JSON).</summary>
    public const long MaxUploadBytes = 256L * 1024 * 1024;

    public static void MapModelsApi(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/api/models").WithTags("Models");
        models.MapGet("/", ListAsync).WithName("ListModels")
            .WithSummary("Every model version, newest first, with its stage, metrics and creation time.");
        models.MapPost("/", RegisterAsync).WithName("RegisterModel")
            .WithSummary("Uploads a trained model's artifacts (the trainer's --api) and registers it as staging: 201; 200 when exactly these files are stored already; 409 when the version exists with other files.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        models.MapPost("/{version}/promote", PromoteAsync).WithName("PromoteModel")
            .WithSummary("Makes a version the production model; it is loaded and checked first, and serving swaps to it atomically.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        models.MapPost("/rollback", RollbackAsync).WithName("RollbackModel")
            .WithSummary("Returns production to the version that held it before the current one.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        models.MapPost("/retrain", RetrainAsync).WithName("RetrainModel")
            .WithSummary("Trains a challenger on the latest offline features, compares it with the production model on the same labelled rows and promotes it only when the promotion policy says so; answers with the recorded decision when it ends (409 when no challenger could be trained).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        models.MapGet("/decisions", ListDecisionsAsync).WithName("ListModelDecisions")
            .WithSummary("Promotions, rollbacks and retrainings, newest first: who or what asked, when, both models' metrics, the rule applied and the outcome.");
        models.MapGet("/runs", ListRunsAsync).WithName("ListRuns")
            .WithSummary("Training runs, newest first: parameters, metrics, tags and artifact locations.");
        models.MapGet("/{version}", GetAsync).WithName("GetModel")
            .WithSummary("A model version: its registration (stage, hash), its metadata.json (feature names, metrics, label, training data) and its files.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        models.MapGet("/{version}/artifacts/{name}", GetArtifactAsync).WithName("GetModelArtifact")
            .WithSummary("One file of a model version, as stored: the ONNX model, metadata.json, the report and its plots.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<ModelDetails>, ProblemHttpResult, ValidationProblem>> GetAsync(
        string version, IGrainFactory grains, ModelStore store, CancellationToken cancellationToken)
    {
        if (!ModelArtifacts.IsValidVersion(version))
        {
            return InvalidVersion();
        }

        // A version is complete once its metadata.json exists (ModelStore.WriteAsync writes it last).
        var files = await store.ListArtifactsAsync(version, cancellationToken);
        if (!files.Any(f => f.Key == ModelArtifacts.Metadata)
            || await store.ReadArtifactAsync(version, ModelArtifacts.Metadata, cancellationToken) is not { } json)
        {
            return ModelNotFound(version);
        }

        // Shown as stored: the file is the record, and its numbers need no second encoding here.
        using var metadata = System.Text.Json.JsonDocument.Parse(json);
        var registered = (await Registry(grains).ListAsync()).FirstOrDefault(m => m.Version == version);
        return TypedResults.Ok(new ModelDetails(
            version,
            registered is null ? null : ModelVersionResponse.From(registered),
            metadata.RootElement.Clone(),
            [.. files.Select(f => new ModelArtifactLink(f.Key, f.Size, $"/api/models/{version}/artifacts/{f.Key}"))]));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult, ValidationProblem>> GetArtifactAsync(
        string version, string name, ModelStore store, CancellationToken cancellationToken)
    {
        if (!ModelArtifacts.IsValidVersion(version))
        {
            return InvalidVersion();
        }

        if (!FileNamePattern().IsMatch(name))
        {
            return Invalid("name", "'name' must be a file name of the version (letters, digits, '.', '-', '_', not starting with '.'), as GET /api/models/{version} lists them.");
        }

        return await store.ReadArtifactAsync(version, name, cancellationToken) is { } bytes
            ? TypedResults.File(bytes, ContentTypes.TryGetContentType(name, out var type) ? type : "application/octet-stream", name)
            : TypedResults.Problem($"Model version {version} has no file '{name}'.", statusCode: StatusCodes.Status404NotFound, title: "Model artifact not found");
    }

    private static readonly Microsoft.AspNetCore.StaticFiles.FileExtensionContentTypeProvider ContentTypes = new();

    private static ValidationProblem InvalidVersion() =>
        Invalid("version", "'version' must be 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit.");

    private static ProblemHttpResult ModelNotFound(string version) =>
        TypedResults.Problem($"No model version {version} is in the model store.", statusCode: StatusCodes.Status404NotFound, title: "Model version not found");

    private static async Task<Ok<IReadOnlyList<ModelVersionResponse>>> ListAsync(IGrainFactory grains) =>
        TypedResults.Ok<IReadOnlyList<ModelVersionResponse>>([.. (await Registry(grains).ListAsync()).Select(ModelVersionResponse.From)]);

    private static async Task<Results<Created<ModelVersionResponse>, Ok<ModelVersionResponse>, ProblemHttpResult, ValidationProblem>> RegisterAsync(
        ModelUpload? upload, IGrainFactory grains, ModelStore store, CancellationToken cancellationToken)
    {
        if (upload?.Version is not { } version || !ModelArtifacts.IsValidVersion(version))
        {
            return InvalidVersion();
        }

        if (upload.Files is not { } encoded || !encoded.ContainsKey(ModelArtifacts.Onnx) || !encoded.ContainsKey(ModelArtifacts.Metadata))
        {
            return Invalid("files", $"'files' must hold at least {ModelArtifacts.Onnx} and {ModelArtifacts.Metadata} (base64).");
        }

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, base64) in encoded)
        {
            if (!FileNamePattern().IsMatch(name) || !Convert.TryFromBase64String(base64 ?? "", new byte[(base64?.Length ?? 0) * 3 / 4 + 3], out _))
            {
                return Invalid($"files.{name}", "Each file needs a plain name (letters, digits, '.', '-', '_') and base64 content.");
            }

            files[name] = Convert.FromBase64String(base64!);
        }

        // Everything is checked before anything is stored: a refused upload leaves no files behind.
        ModelMetadata metadata;
        try
        {
            metadata = ModelJson.ReadMetadata(files[ModelArtifacts.Metadata]);
            OnnxModel.CheckFeatures(metadata, FeatureCatalogue.Version, FeatureCatalogue.Names);
        }
        catch (Exception e) when (e is InvalidDataException or ModelRefusedException)
        {
            return Invalid($"files.{ModelArtifacts.Metadata}", e.Message);
        }

        if (metadata.Version != version)
        {
            return Invalid("version", $"'version' is {version} but metadata.json says {metadata.Version}.");
        }

        try
        {
            OnnxModel.LoadWithoutFeatureCheck(metadata, files[ModelArtifacts.Onnx]).Dispose();
        }
        catch (ModelRefusedException e)
        {
            return Invalid($"files.{ModelArtifacts.Onnx}", e.Message);
        }

        var written = await store.WriteAsync(version, files, cancellationToken);
        if (written == ModelWrite.Conflict)
        {
            return TypedResults.Problem(ModelStore.AlreadyExists(version), statusCode: StatusCodes.Status409Conflict, title: "Model version exists");
        }

        var result = await Registry(grains).RegisterAsync(version, ModelArtifacts.OnnxHash(files[ModelArtifacts.Onnx]));
        return result.Model is not { } model ? Problem(result)
            : written == ModelWrite.Written ? TypedResults.Created($"/api/models/{version}", ModelVersionResponse.From(model))
            : TypedResults.Ok(ModelVersionResponse.From(model));
    }

    private static async Task<Results<Ok<ModelVersionResponse>, ProblemHttpResult>> PromoteAsync(string version, IGrainFactory grains, HttpContext http)
    {
        var result = await Registry(grains).PromoteAsync(version, Caller(http), null, null);
        return result.Model is { } model ? TypedResults.Ok(ModelVersionResponse.From(model)) : Problem(result);
    }

    private static async Task<Results<Ok<ModelVersionResponse>, ProblemHttpResult>> RollbackAsync(IGrainFactory grains, HttpContext http)
    {
        var result = await Registry(grains).RollbackAsync(Caller(http));
        return result.Model is { } model ? TypedResults.Ok(ModelVersionResponse.From(model)) : Problem(result);
    }

    private static async Task<Results<Ok<ModelDecision>, ProblemHttpResult>> RetrainAsync(IGrainFactory grains, HttpContext http)
    {
        var decision = await grains.GetGrain<IRetrainingGrain>("default").RetrainAsync(Caller(http));
        return decision.Outcome == DecisionOutcomes.Failed
            ? TypedResults.Problem(decision.Reason, statusCode: StatusCodes.Status409Conflict, title: "Retraining failed")
            : TypedResults.Ok(decision);
    }

    private static async Task<Results<Ok<IReadOnlyList<ModelDecision>>, ValidationProblem>> ListDecisionsAsync(IGrainFactory grains, int? limit)
    {
        if (limit is < 1 or > 1000)
        {
            return Invalid("limit", "'limit' must be between 1 and 1000.");
        }

        return TypedResults.Ok<IReadOnlyList<ModelDecision>>(await Registry(grains).ListDecisionsAsync(limit ?? 100));
    }

    /// <summary>The caller as the registry records it: the credential's subject.</summary>
    private static ModelTrigger Caller(HttpContext http) => new(ModelTrigger.User, EndpointAccess.Actor(http));

    private static async Task<Results<Ok<IReadOnlyList<RunResponse>>, ValidationProblem>> ListRunsAsync(ITrackingStore store, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return Invalid("limit", "'limit' must be between 1 and 1000.");
        }

        var runs = await store.ListRunsAsync(limit ?? 100, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<RunResponse>>([.. runs.Select(r => new RunResponse(
            r.RunId, r.StartedAt, r.FinishedAt, r.Status, r.ModelVersion, r.Parameters, Finite(r.Metrics), r.Tags, r.Artifacts, r.Error))]);
    }

    internal static IModelRegistryGrain Registry(IGrainFactory grains) => grains.GetGrain<IModelRegistryGrain>(ModelArtifacts.ModelName);

    private static ProblemHttpResult Problem(RegistryResult result) => result.Status switch
    {
        RegistryStatus.NotFound => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status404NotFound, title: "Model version not found"),
        RegistryStatus.Refused => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status409Conflict, title: "Model refused"),
        _ => TypedResults.Problem(result.Message, statusCode: StatusCodes.Status409Conflict, title: "Registry conflict"),
    };

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: $"Invalid {field}");

    /// <summary>JSON has no NaN: a metric that could not be computed (one class only) is null.</summary>
    internal static IReadOnlyDictionary<string, double?> Finite(IReadOnlyDictionary<string, double> metrics) =>
        metrics.ToDictionary(m => m.Key, m => double.IsFinite(m.Value) ? m.Value : (double?)null, StringComparer.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex FileNamePattern();
}

/// <summary>Body of <c>POST /api/models</c>: the version and its artifacts by file name, base64.</summary>
public sealed record ModelUpload(string? Version, IReadOnlyDictionary<string, string?>? Files) : IAuditedRequest
{
    string? IAuditedRequest.AuditResource => Version is null ? null : $"model/{Version}";
}

/// <summary>A registered model version; <paramref name="OnnxSha256"/> is the content hash recorded at registration.</summary>
public sealed record ModelVersionResponse(
    string Version, string Stage, DateTimeOffset CreatedAt, DateTimeOffset RegisteredAt, DateTimeOffset? PromotedAt, string FeatureVersion,
    IReadOnlyDictionary<string, double?> Metrics, string? OnnxSha256)
{
    public static ModelVersionResponse From(ModelVersionInfo m) =>
        new(m.Version, m.Stage, m.CreatedAt, m.RegisteredAt, m.PromotedAt, m.FeatureVersion, ModelsApi.Finite(m.Metrics), m.OnnxSha256);
}

/// <summary>A training run.</summary>
public sealed record RunResponse(
    string RunId, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Status, string? ModelVersion,
    IReadOnlyDictionary<string, string> Parameters, IReadOnlyDictionary<string, double?> Metrics,
    IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, string> Artifacts, string? Error);

/// <summary>A model version: its registration (null when it was never registered), its metadata.json as stored, and its files.</summary>
public sealed record ModelDetails(string Version, ModelVersionResponse? Registration, System.Text.Json.JsonElement Metadata, IReadOnlyList<ModelArtifactLink> Artifacts);

/// <summary>One file of a model version and where to fetch it.</summary>
public sealed record ModelArtifactLink(string Name, long Size, string Href);
