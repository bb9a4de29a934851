using System.Globalization;
using ClinicalTrials.Api.Doctor;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Pipeline;
using ClinicalTrials.Lake.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary><c>/api/pipeline</c>: run the lake's jobs on demand, see their runs and the layers' counts.</summary>
public static class PipelineApi
{
    public static void MapPipelineApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/pipeline").WithTags("Pipeline");
        group.MapPost("/jobs/{name}/run", RunAsync).WithName("RunPipelineJob")
            .WithSummary($"Runs a job (bronze-to-silver, offline-features, retention) and answers when it ends, with the run's record. from/to (YYYY-MM-DD, at most {JobArguments.MaxDays} days, to no later than tomorrow) ask for a backfill.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/jobs", ListJobs).WithName("ListPipelineJobs").WithSummary("Every job with its latest runs (start, end, rows in/out, status).");
        group.MapGet("/status", GetStatusAsync).WithName("GetPipelineStatus").WithSummary("Files, rows and latest partition of each layer.");
        group.MapGet("/doctor", (PipelineDoctor doctor, CancellationToken cancellationToken) => doctor.ExamineAsync(cancellationToken))
            .WithName("GetPipelineDoctor")
            .WithSummary("Walks the pipeline (infrastructure, ingestion, processing, features, serving, observability): each check pass, warn or fail with its figure and a hint, and each layer's files and rows.");
    }

    private static async Task<Results<Ok<JobRun>, ProblemHttpResult, ValidationProblem>> RunAsync(
        string name, string? from, string? to, PipelineJobs jobs, IGrainFactory grains)
    {
        if (!jobs.Exists(name))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown job",
                detail: $"No pipeline job is named '{name}'; jobs: {string.Join(", ", jobs.Names)}.");
        }

        var errors = new Dictionary<string, string[]>();
        var arguments = new JobArguments(Date(from, "from", errors), Date(to, "to", errors));
        if (errors.Count == 0 && arguments.Problem(jobs.Lake.Today) is { } problem)
        {
            errors[problem.Field] = [problem.Rule];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await grains.GetGrain<IJobGrain>(name).RunAsync(arguments.From, arguments.To));
    }

    private static Ok<PipelineJobsResponse> ListJobs(PipelineJobs jobs, int? limit) =>
        TypedResults.Ok(new PipelineJobsResponse(
            [.. jobs.Names.Select(name => new PipelineJobSummary(name, [.. jobs.Runs(name, Math.Clamp(limit ?? 20, 1, 500)).Select(r => r.ToJobRun())]))]));

    private static async Task<Ok<PipelineStatusResponse>> GetStatusAsync(PipelineJobs jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(new PipelineStatusResponse(jobs.Lake.Storage.Description, await PipelineStatus.ReadAsync(jobs.Lake, cancellationToken)));

    private static DateOnly? Date(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors[field] = [$"format: '{field}' must be a date in the form YYYY-MM-DD."];
        return null;
    }
}

/// <summary>The jobs and their latest runs, newest first.</summary>
public sealed record PipelineJobsResponse(IReadOnlyList<PipelineJobSummary> Jobs);

/// <summary>A job and its latest runs, in the shape <c>POST …/run</c> answers with.</summary>
public sealed record PipelineJobSummary(string Name, IReadOnlyList<JobRun> Runs);

/// <summary>Where the lake is stored and each layer's counts.</summary>
public sealed record PipelineStatusResponse(string Storage, IReadOnlyList<LayerStatus> Layers);
