using System.Globalization;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Silver;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api.Sdtm;

/// <summary>
/// CDISC SDTM in Dataset-JSON v1.1: <c>POST /api/import/sdtm</c> maps a DM, VS, LB or AE dataset to our messages
/// (<see cref="SdtmInbound"/>) and stores them through the one ingest path, answering per row what was accepted,
/// flagged, rejected or skipped and why; <c>GET /api/export/sdtm</c> writes a domain from silver
/// (<see cref="SdtmOutbound"/>). docs/sdtm.md.
/// </summary>
public static class SdtmApi
{
    /// <summary>Row issues listed in an answer; the counts cover every row.</summary>
    public const int MaxListedIssues = 100;

    public static void MapSdtmApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/import/sdtm", ImportAsync).WithTags("CDISC SDTM").WithName("ImportSdtm")
            .WithSummary("Store one SDTM dataset (DM, VS, LB or AE) in Dataset-JSON v1.1, JSON or NDJSON; ?site_id=&study_phase= name the envelope. Answers per row what was accepted, flagged, rejected or skipped.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        app.MapGet("/api/export/sdtm", ExportAsync).WithTags("CDISC SDTM").WithName("ExportSdtm")
            .WithSummary("One SDTM domain (DM, VS, LB, AE) from silver as Dataset-JSON v1.1; from/to (YYYY-MM-DD, clinical dates, inclusive) narrow it; study_id names STUDYID.");
    }

    /// <summary>STUDYID of an export when the request names none.</summary>
    public const string DefaultStudyId = "CLINICALTRIALS";

    private static async Task<Results<FileContentHttpResult, ValidationProblem>> ExportAsync(
        string? domain, string? from, string? to, string? study_id, LakeContext lake, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = domain?.ToUpperInvariant();
        if (name is null || !SdtmOutbound.IsDomain(name))
        {
            errors["domain"] = [$"domain must be one of {string.Join(", ", SdtmCodes.Domains)}."];
        }

        var (first, last) = (Date(from, "from", errors), Date(to, "to", errors));
        if (first > last)
        {
            errors["to"] = ["to must not be before from."];
        }

        if (study_id is { Length: 0 or > 64 })
        {
            errors["study_id"] = ["study_id must be 1 to 64 characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The export request is invalid");
        }

        var messages = new List<ClinicalMessage>();
        await foreach (var message in SilverReader.ReadAsync(lake.Storage, SdtmOutbound.PayloadOf(name!), first, last, cancellationToken))
        {
            messages.Add(message);
        }

        var dataset = SdtmOutbound.Write(name!, study_id ?? DefaultStudyId, messages, time.GetUtcNow());
        return TypedResults.File(dataset, "application/json", $"{name!.ToLowerInvariant()}.json");
    }

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

        errors[field] = [$"{field} must be a date YYYY-MM-DD."];
        return null;
    }

    private static async Task<Results<Ok<SdtmImportReport>, ValidationProblem, ProblemHttpResult>> ImportAsync(
        HttpRequest request, ClinicalIngest ingest, IGrainFactory grains, TimeProvider time, string? site_id, string? study_phase,
        CancellationToken cancellationToken)
    {
        if (site_id is null || !ClinicalIds.IsSiteId(site_id) || study_phase is null)
        {
            return Invalid(site_id is null || !ClinicalIds.IsSiteId(site_id) ? "site_id" : "study_phase",
                $"The query parameters site_id ({ClinicalIds.SiteIdShape}) and study_phase (Phase I … Phase IV) give every message its envelope.");
        }

        if (!SiteScope.Allows(request.HttpContext.User, site_id))
        {
            return SiteScope.Forbidden(request.HttpContext.User, $"The dataset is for site '{site_id}'; nothing was stored.");
        }

        using var body = await RequestBody.ReadAsync(request, ClinicalDataApi.MaxBatchBytes, cancellationToken);
        if (body is null)
        {
            return TypedResults.Problem($"A dataset may be at most {ClinicalDataApi.MaxBatchBytes / (1024 * 1024)} MiB; split a larger one.",
                statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large");
        }

        DatasetJson dataset;
        try
        {
            dataset = DatasetJson.Read(body.Memory);
        }
        catch (DatasetJsonException e)
        {
            return Invalid(e.Field, e.Message);
        }

        using (dataset)
        {
            if (!SdtmCodes.Domains.Contains(dataset.Name))
            {
                return Invalid("name", $"Dataset {dataset.Name} is not imported: send {string.Join(", ", SdtmCodes.Domains)}.");
            }

            var patients = await PseudonymsAsync(grains, dataset);
            var mapping = new SdtmInbound(site_id, study_phase, patients).Map(dataset);
            var receivedAt = time.GetUtcNow();
            var results = new List<IngestResult>(mapping.Messages.Count);
            foreach (var chunk in mapping.Messages.Chunk(ClinicalDataApi.MaxBatchMessages))
            {
                results.AddRange(await ReceivedMessages.IngestAsync(request.HttpContext, ingest, [.. chunk.Select(m => ReceivedMessage.Parse(m.Raw, receivedAt))], receivedAt));
            }

            var report = SdtmImportReport.From(dataset, mapping, results);
            return results.Any(r => r.Status == IngestStatus.Unavailable)
                ? TypedResults.Problem(
                    "Some rows could not be made durable and were not stored; send the dataset again later (what was stored is answered duplicate).",
                    statusCode: StatusCodes.Status503ServiceUnavailable, title: ClinicalApi.StorageUnavailableTitle,
                    extensions: new Dictionary<string, object?> { ["report"] = report })
                : TypedResults.Ok(report);
        }
    }

    /// <summary>
    /// Each USUBJID's patient id: the keyed pseudonym, except in a dataset this platform exported, whose USUBJIDs are
    /// already our patient ids (so an export imported elsewhere keeps its patients).
    /// </summary>
    private static async Task<Dictionary<string, string>> PseudonymsAsync(IGrainFactory grains, DatasetJson dataset)
    {
        var subjects = SdtmInbound.Subjects(dataset);
        var ours = dataset.SourceSystem == SdtmCodes.SourceSystemName;
        var patients = new Dictionary<string, string>(StringComparer.Ordinal);
        var toHash = new List<string>();
        foreach (var subject in subjects)
        {
            if (ours && ClinicalIds.IsPatientId(subject))
            {
                patients[subject] = subject;
            }
            else
            {
                toHash.Add(subject);
            }
        }

        if (toHash.Count > 0)
        {
            var ids = await grains.GetGrain<ISubjectPseudonymGrain>(ISubjectPseudonymGrain.Default).PseudonymiseAsync([.. toHash]);
            for (var i = 0; i < toHash.Count; i++)
            {
                patients[toHash[i]] = ids[i];
            }
        }

        return patients;
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] },
            title: "The Dataset-JSON dataset is invalid",
            detail: "Nothing of it was stored.");
}

/// <summary>
/// The outcome of one imported dataset, per row: <see cref="Accepted"/> (stored), <see cref="Flagged"/> (stored with an
/// issue: unknown_test, unknown_unit), <see cref="Duplicates"/> (stored before), <see cref="Rejected"/> (not stored: not
/// mappable, or refused by validation and quarantined), <see cref="Skipped"/> (holds nothing our messages store). They add
/// up to <see cref="Records"/>. <see cref="Reasons"/> counts every issue by variable or field and rule; <see cref="Issues"/>
/// lists the first <see cref="SdtmApi.MaxListedIssues"/>.
/// </summary>
public sealed record SdtmImportReport(
    string Domain,
    int Records,
    int Accepted,
    int Flagged,
    int Duplicates,
    int Rejected,
    int Skipped,
    int ImputedDates,
    int Messages,
    IReadOnlyDictionary<string, int> Reasons,
    IReadOnlyList<SdtmRowIssue> Issues)
{
    internal static SdtmImportReport From(DatasetJson dataset, SdtmInbound.Mapping mapping, IReadOnlyList<IngestResult> results)
    {
        var (accepted, flagged, duplicates, rejected) = (0, 0, 0, 0);
        var reasons = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var issues = new List<SdtmRowIssue>();
        void Issue(int row, string field, string rule, string message, string outcome)
        {
            var key = $"{ViolationFields.WithoutListIndex(field)}:{rule}";
            reasons[key] = reasons.GetValueOrDefault(key) + 1;
            if (issues.Count < SdtmApi.MaxListedIssues)
            {
                issues.Add(new SdtmRowIssue(row, field, rule, message, outcome));
            }
        }

        foreach (var problem in mapping.Rejected)
        {
            rejected++;
            Issue(problem.Row, problem.Variable, problem.Rule, problem.Message, "rejected");
        }

        foreach (var problem in mapping.Skipped)
        {
            Issue(problem.Row, problem.Variable, problem.Rule, problem.Message, "skipped");
        }

        for (var m = 0; m < mapping.Messages.Count; m++)
        {
            var result = results[m];
            foreach (var (row, path) in mapping.Messages[m].Rows)
            {
                var own = result.Violations.Where(v => v.Field == path || v.Field.StartsWith(path + ".", StringComparison.Ordinal)).ToList();
                if (result.Status == IngestStatus.Rejected)
                {
                    rejected++;
                    foreach (var v in own.Count > 0 ? own : result.Violations)
                    {
                        Issue(row, v.Field, v.Rule, v.Message, "rejected");
                    }

                    continue;
                }

                var refused = own.Any(v => v.Rule is not (Rules.UnknownTest or Rules.UnknownUnit));
                var outcome = result.Status == IngestStatus.Duplicate ? "duplicate" : refused ? "rejected" : own.Count > 0 ? "flagged" : "accepted";
                switch (outcome)
                {
                    case "duplicate": duplicates++; break;
                    case "rejected": rejected++; break;
                    case "flagged": flagged++; break;
                    default: accepted++; break;
                }

                foreach (var v in result.Status == IngestStatus.Duplicate ? [] : own)
                {
                    Issue(row, v.Field, v.Rule, v.Message, v.Rule is Rules.UnknownTest or Rules.UnknownUnit ? "flagged" : "rejected");
                }
            }
        }

        issues.Sort((a, b) => a.Row.CompareTo(b.Row));
        return new SdtmImportReport(dataset.Name, dataset.Rows.Count, accepted, flagged, duplicates, rejected, mapping.Skipped.Count,
            mapping.ImputedDates, mapping.Messages.Count, reasons, issues);
    }
}

/// <summary>One row's issue: the row (0-based, in file order), the SDTM variable or our field, the rule, why, and what became of the row.</summary>
public sealed record SdtmRowIssue(int Row, string Field, string Rule, string Message, string Outcome);
