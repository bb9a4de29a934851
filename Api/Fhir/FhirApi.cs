using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// <c>/fhir</c>: HL7 FHIR R4 in and out. A Bundle's entries are read and checked with the Firely SDK, mapped to our
/// messages (<see cref="FhirInbound"/>) and stored through the one ingest path; each entry is answered with an
/// OperationOutcome. A patient's stored data comes back as a Bundle (<c>$everything</c>). docs/fhir.md.
/// </summary>
public static class FhirApi
{
    public const string MediaType = "application/fhir+json";
    public const int MaxEntries = ClinicalDataApi.MaxBatchMessages;

    // Strict: an unknown element, a wrong type or a broken cardinality is an error, as the FHIR specification reads.
    private static readonly FhirJsonDeserializer Deserializer = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));

    public static RouteGroupBuilder MapFhirApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/fhir").WithTags("FHIR R4");
        group.MapPost("/Bundle", PostBundleAsync).WithName("PostFhirBundle")
            .WithSummary("Store a FHIR R4 batch or transaction Bundle of Patient, Observation and AdverseEvent; ?site_id=&study_phase= name the envelope.")
            // The handler writes FHIR JSON itself (a Bundle, or an OperationOutcome), so each status is declared here.
            .Produces(StatusCodes.Status200OK, contentType: MediaType)
            .Produces(StatusCodes.Status400BadRequest, contentType: MediaType)
            .Produces(StatusCodes.Status413PayloadTooLarge, contentType: MediaType);
        group.MapGet("/Patient/{patientId}/$everything", GetEverythingAsync).WithName("GetFhirPatientEverything")
            .WithSummary("One patient's stored data as a FHIR R4 searchset Bundle.")
            .Produces(StatusCodes.Status200OK, contentType: MediaType)
            .Produces(StatusCodes.Status400BadRequest, contentType: MediaType)
            .Produces(StatusCodes.Status404NotFound, contentType: MediaType);
        return group;
    }

    private static async Task<IResult> PostBundleAsync(
        HttpRequest request, ClinicalIngest ingest, TimeProvider time, string? site_id, string? study_phase, CancellationToken cancellationToken)
    {
        if (site_id is null || !ClinicalIds.IsSiteId(site_id) || study_phase is null)
        {
            return Outcome(StatusCodes.Status400BadRequest, Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Required,
                $"The query parameters site_id ({ClinicalIds.SiteIdShape}) and study_phase (Phase I … Phase IV) give every message its envelope.", "site_id"));
        }

        if (!SiteScope.Allows(request.HttpContext.User, site_id))
        {
            return SiteScope.Forbidden(request.HttpContext.User, $"The Bundle is for site '{site_id}'; nothing was stored.");
        }

        using var body = await RequestBody.ReadAsync(request, ClinicalDataApi.MaxBatchBytes, cancellationToken);
        if (body is null)
        {
            return Outcome(StatusCodes.Status413PayloadTooLarge, Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.TooLong,
                $"A Bundle may be at most {ClinicalDataApi.MaxBatchBytes / (1024 * 1024)} MiB.", "Bundle"));
        }

        if (Parse(body.Memory) is not { } bundle)
        {
            return Outcome(StatusCodes.Status400BadRequest, ParseIssues(body.Memory));
        }

        if (bundle.Type is not (Bundle.BundleType.Batch or Bundle.BundleType.Transaction) || bundle.Entry.Count is 0 or > MaxEntries)
        {
            return Outcome(StatusCodes.Status400BadRequest, Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"Send a Bundle of type batch or transaction with 1 to {MaxEntries} entries.", "Bundle.type"));
        }

        var receivedAt = time.GetUtcNow();
        var mapped = new FhirInbound(site_id, study_phase).Map(bundle);
        var received = mapped.Select(m => m.Message is { } raw ? ReceivedMessage.Parse(raw, receivedAt) : null).ToList();
        var transaction = bundle.Type == Bundle.BundleType.Transaction;
        if (transaction && FirstFailure(mapped, received) is { } failure)
        {
            // A transaction is all or nothing: nothing of it is stored when one entry cannot be.
            return Outcome(StatusCodes.Status400BadRequest, failure);
        }

        var toIngest = received.Where(r => r is not null).Select(r => r!).ToList();
        var results = new Queue<IngestResult>(toIngest.Count == 0 ? [] : await ReceivedMessages.IngestAsync(request.HttpContext, ingest, toIngest, receivedAt));
        var answer = new Bundle { Type = transaction ? Bundle.BundleType.TransactionResponse : Bundle.BundleType.BatchResponse };
        var unavailable = false;
        for (var i = 0; i < mapped.Count; i++)
        {
            var response = mapped[i] switch
            {
                { IsPatient: true } => Response("200 OK", null, Issue(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
                    "The Patient's pseudonymous identifier is known; nothing is stored for it.", $"Bundle.entry[{i}]")),
                { Problem: { } problem } m => Response("400 Bad Request", null, Issue(OperationOutcome.IssueSeverity.Error, m.ProblemType, problem, $"Bundle.entry[{i}]")),
                _ => EntryResponse(results.Dequeue(), i),
            };
            unavailable |= response.Status!.StartsWith("503", StringComparison.Ordinal);
            answer.Entry.Add(new Bundle.EntryComponent { Response = response });
        }

        return Fhir(unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK, answer);
    }

    private static Bundle.ResponseComponent EntryResponse(IngestResult result, int index)
    {
        var issues = result.Violations.Select(v => Issue(
            result.Status == IngestStatus.Rejected ? OperationOutcome.IssueSeverity.Error : OperationOutcome.IssueSeverity.Warning,
            v.Rule == Rules.Range ? OperationOutcome.IssueType.Value : OperationOutcome.IssueType.Invalid,
            $"{v.Rule}: {v.Message}", $"Bundle.entry[{index}] {v.Field}")).ToArray();
        var location = result.MessageId is { } id ? $"/api/clinical/messages/{id}" : null;
        return result.Status switch
        {
            IngestStatus.Accepted => Response("201 Created", location, issues),
            IngestStatus.Duplicate => Response("200 OK", location, issues),
            IngestStatus.Unavailable => Response("503 Service Unavailable", null, Issue(OperationOutcome.IssueSeverity.Error,
                OperationOutcome.IssueType.Transient, ClinicalApi.StorageUnavailableDetail, $"Bundle.entry[{index}]")),
            _ => Response("400 Bad Request", location, issues),
        };
    }

    private static OperationOutcome.IssueComponent[]? FirstFailure(List<FhirInbound.Mapped> mapped, List<ReceivedMessage?> received)
    {
        for (var i = 0; i < mapped.Count; i++)
        {
            if (mapped[i].Problem is { } problem)
            {
                return [Issue(OperationOutcome.IssueSeverity.Error, mapped[i].ProblemType, problem, $"Bundle.entry[{i}]")];
            }

            if (received[i] is { Parsed.IsValid: false } rejected)
            {
                return [.. rejected.Parsed.Violations.Select(v => Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                    $"{v.Rule}: {v.Message}", $"Bundle.entry[{i}] {v.Field}"))];
            }
        }

        return null;
    }

    private static async Task<IResult> GetEverythingAsync(string patientId, IIngestJournal journal, TimeProvider time)
    {
        if (!ClinicalIds.IsPatientId(patientId))
        {
            return Outcome(StatusCodes.Status400BadRequest, Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
                $"The patient id must be {ClinicalIds.PatientIdShape}.", "Patient.id"));
        }

        var stored = await journal.ReadPatientAsync(patientId, 0);
        if (stored.Count == 0)
        {
            return Outcome(StatusCodes.Status404NotFound, Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotFound,
                $"No data is stored for Patient/{patientId}.", "Patient.id"));
        }

        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Timestamp = time.GetUtcNow() };
        bundle.Entry.Add(Entry(FhirOutbound.Patient(patientId)));
        foreach (var message in stored
            .Select(s => s.Parse().Message)
            .OfType<ClinicalMessage>()
            .OrderBy(m => m.Timestamp))
        {
            foreach (var resource in FhirOutbound.Resources(message))
            {
                bundle.Entry.Add(Entry(resource));
            }
        }

        bundle.Total = bundle.Entry.Count;
        return Fhir(StatusCodes.Status200OK, bundle);
    }

    private static Bundle.EntryComponent Entry(Resource resource) => new()
    {
        FullUrl = $"urn:clinicaltrials:{resource.TypeName}/{resource.Id}",
        Resource = resource,
        Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
    };

    /// <summary>The Bundle, or null when the Firely parser refuses the body (<see cref="ParseIssues"/> says why).</summary>
    internal static Bundle? Parse(ReadOnlyMemory<byte> body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body.Span);
        try
        {
            return Deserializer.TryDeserializeResource(ref reader, out var resource, out _) ? resource as Bundle : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static OperationOutcome.IssueComponent[] ParseIssues(ReadOnlyMemory<byte> body)
    {
        var reader = new System.Text.Json.Utf8JsonReader(body.Span);
        try
        {
            if (Deserializer.TryDeserializeResource(ref reader, out var resource, out var issues))
            {
                return [Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                    $"Expected a Bundle, got {resource?.TypeName ?? "nothing"}.", "resourceType")];
            }

            return [.. issues.Take(20).Select(e => Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure, e.Message, "Bundle"))];
        }
        catch (System.Text.Json.JsonException e)
        {
            return [Issue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure, $"The body is not valid JSON: {e.Message}", "Bundle")];
        }
    }

    private static Bundle.ResponseComponent Response(string status, string? location, params OperationOutcome.IssueComponent[] issues) => new()
    {
        Status = status,
        Location = location,
        Outcome = issues.Length == 0 ? null : new OperationOutcome { Issue = [.. issues] },
    };

    private static OperationOutcome.IssueComponent Issue(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType type, string text, string where) =>
        new() { Severity = severity, Code = type, Diagnostics = text, Expression = [where] };

    private static IResult Outcome(int status, params OperationOutcome.IssueComponent[] issues) =>
        Fhir(status, new OperationOutcome { Issue = [.. issues] });

    private static IResult Fhir(int status, Resource resource) => Results.Text(resource.ToJson(), MediaType, System.Text.Encoding.UTF8, status);
}
