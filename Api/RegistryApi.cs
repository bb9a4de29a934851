using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary>
/// <c>/api/patients</c> and <c>/api/sites</c>: which patients and sites there are (from the journal, the durable record
/// every silo shares) and the current state the grains hold.
/// </summary>
public static class RegistryApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static void MapRegistryApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/patients", ListPatientsAsync).WithTags("Patients").WithName("ListPatients")
            .WithSummary($"Patients with accepted data, in patient_id order, {DefaultPageSize} a page (at most {MaxPageSize}); pass the page's next_after as 'after' for the next. A site key lists its own site's patients only.");
        app.MapGet("/api/sites", ListSitesAsync).WithTags("Sites").WithName("ListSites")
            .WithSummary("Every site that sent a message, with its patient and message counts. A site key sees its own site only.");
        app.MapGet("/api/patients/{patientId}", GetPatientAsync).WithTags("Patients").WithName("GetPatient")
            .WithSummary("A patient's current state: demographics, latest vitals and labs, adverse events.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/api/patients/{patientId}/features", GetFeaturesAsync).WithTags("Patients").WithName("GetPatientFeatures")
            .WithSummary("A patient's current feature vector (online features): every catalogue feature by name, null where missing.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGet("/api/sites/{siteId}", GetSiteAsync).WithTags("Sites").WithName("GetSite")
            .WithSummary("A site's message counts and why its messages were rejected; 404 for a site that never sent one.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<PatientPage>, ProblemHttpResult, ValidationProblem>> ListPatientsAsync(
        string? site_id, string? limit, string? after, IIngestJournal journal, HttpContext http)
    {
        if (site_id is not null && !ClinicalIds.IsSiteId(site_id))
        {
            return InvalidSiteId();
        }

        // Parsed here rather than bound as int?: a binding failure answers 400 without naming the field.
        var size = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size)
            || size is < 1 or > MaxPageSize))
        {
            return Invalid("limit", "range", $"'limit' must be a whole number from 1 to {MaxPageSize}.");
        }

        if (after is not null && !ClinicalIds.IsPatientId(after))
        {
            return Invalid("after", "format", $"'after' must be a patient_id ({ClinicalIds.PatientIdShape}): the next_after of the previous page.");
        }

        var scope = SiteScope.Of(http.User);
        if (scope is not null && site_id is not null && site_id != scope)
        {
            return SiteScope.Forbidden(http.User, "A site credential lists its own site's patients only.");
        }

        // One more than the page, to know whether another page follows without a second query.
        var patients = await journal.PatientsAsync(scope ?? site_id, after ?? "", size + 1);
        var page = patients.Take(size).Select(p => new PatientListItem(p.PatientId, p.SiteIds)).ToList();
        return TypedResults.Ok(new PatientPage(page, patients.Count > size ? page[^1].PatientId : null));
    }

    private static async Task<Ok<IReadOnlyList<SiteListItem>>> ListSitesAsync(IIngestJournal journal, HttpContext http)
    {
        var messages = IngestStats.From(await journal.CountersAsync(SiteScope.Of(http.User))).BySite;
        var patients = await journal.PatientCountsAsync();
        // Messages whose site could not be read are counted under "unknown" (see /api/clinical/stats): not a site.
        return TypedResults.Ok<IReadOnlyList<SiteListItem>>([.. messages.Where(site => ClinicalIds.IsSiteId(site.Key)).Select(site =>
            new SiteListItem(site.Key, patients.GetValueOrDefault(site.Key), site.Value))]);
    }

    private static async Task<Results<Ok<PatientSummary>, ProblemHttpResult, ValidationProblem>> GetPatientAsync(string patientId, IGrainFactory grains)
    {
        if (!ClinicalIds.IsPatientId(patientId))
        {
            return InvalidPatientId();
        }

        return await grains.Patient(patientId).GetSummaryAsync() is { } summary
            ? TypedResults.Ok(summary)
            : PatientNotFound(patientId);
    }

    private static async Task<Results<Ok<PatientFeaturesResponse>, ProblemHttpResult, ValidationProblem>> GetFeaturesAsync(string patientId, IGrainFactory grains)
    {
        if (!ClinicalIds.IsPatientId(patientId))
        {
            return InvalidPatientId();
        }

        if (await grains.Patient(patientId).GetFeaturesAsync() is not { } features)
        {
            return PatientNotFound(patientId);
        }

        var names = FeatureCatalogue.Names;
        var byName = new Dictionary<string, double?>(features.Values.Length, StringComparer.Ordinal);
        for (var i = 0; i < features.Values.Length; i++)
        {
            // JSON has no NaN: a missing value is null.
            byName[names[i]] = double.IsFinite(features.Values[i]) ? features.Values[i] : null;
        }

        return TypedResults.Ok(new PatientFeaturesResponse(features.PatientId, features.AsOf, features.FeatureVersion, byName));
    }

    private static ValidationProblem InvalidPatientId() => Invalid("patient_id", "format", $"'patient_id' must be {ClinicalIds.PatientIdShape}.");

    private static ValidationProblem InvalidSiteId() => Invalid("site_id", "format", $"'site_id' must be {ClinicalIds.SiteIdShape}.");

    private static ValidationProblem Invalid(string field, string rule, string message) => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [field] = [$"{rule}: {message}"] }, title: $"Invalid {field}");

    private static ProblemHttpResult PatientNotFound(string patientId) =>
        TypedResults.Problem($"No data was ever accepted for patient {patientId}.", statusCode: StatusCodes.Status404NotFound, title: "Patient not found");

    private static async Task<Results<Ok<SiteSummary>, ProblemHttpResult, ValidationProblem>> GetSiteAsync(string siteId, IIngestJournal journal, HttpContext http)
    {
        if (!ClinicalIds.IsSiteId(siteId))
        {
            return InvalidSiteId();
        }

        if (!SiteScope.Allows(http.User, siteId))
        {
            return SiteScope.Forbidden(http.User, "A site credential reads its own site only.");
        }

        var counters = await journal.CountersAsync(siteId);
        return counters.Counters.Count == 0
            ? TypedResults.Problem($"No message was ever received from site {siteId}.", statusCode: StatusCodes.Status404NotFound, title: "Site not found")
            : TypedResults.Ok(SiteSummary.From(siteId, counters));
    }
}

/// <summary>A patient's current features: every feature of the catalogue version by name, null where the value is missing (NaN).</summary>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="AsOf">The evaluation time t: the latest clinical timestamp (whole seconds) of the patient's stored messages.</param>
/// <param name="FeatureVersion">The feature catalogue version; a model must be served vectors of the version it was trained on.</param>
/// <param name="Features">Values by feature name, in catalogue order; null for a missing value.</param>
public sealed record PatientFeaturesResponse(string PatientId, DateTimeOffset AsOf, string FeatureVersion, IReadOnlyDictionary<string, double?> Features);

/// <summary>One page of patients.</summary>
/// <param name="Patients">The page, in patient_id order.</param>
/// <param name="NextAfter">The 'after' of the next page; null on the last page (written, not left out, so the end is explicit).</param>
public sealed record PatientPage(
    IReadOnlyList<PatientListItem> Patients,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? NextAfter);

/// <summary>A patient with accepted data, and the sites that sent it (one, unless the patient moved; only the caller's own for a site key).</summary>
public sealed record PatientListItem(string PatientId, IReadOnlyList<string> SiteIds);

/// <summary>A site, its patients (with accepted data) and its message counts.</summary>
public sealed record SiteListItem(string SiteId, long Patients, OutcomeCounts Messages);
