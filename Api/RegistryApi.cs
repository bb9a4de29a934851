using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary><c>/api/patients</c> and <c>/api/sites</c>: the current state the grains hold.</summary>
public static class RegistryApi
{
    public static void MapRegistryApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/patients/{patientId}", GetPatientAsync).WithTags("Patients").WithName("GetPatient")
            .WithSummary("A patient's current state: demographics, latest vitals and labs, adverse events.");
        app.MapGet("/api/patients/{patientId}/features", GetFeaturesAsync).WithTags("Patients").WithName("GetPatientFeatures")
            .WithSummary("A patient's current feature vector (online features): every catalogue feature by name, null where missing.");
        app.MapGet("/api/sites/{siteId}", GetSiteAsync).WithTags("Sites").WithName("GetSite")
            .WithSummary("A site's message counts and why its messages were rejected; 404 for a site that never sent one.");
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

    private static ValidationProblem InvalidPatientId() => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { ["patient_id"] = [$"format: 'patient_id' must be {ClinicalIds.PatientIdShape}."] },
        title: "Invalid patient_id");

    private static ProblemHttpResult PatientNotFound(string patientId) =>
        TypedResults.Problem($"No data was ever accepted for patient {patientId}.", statusCode: StatusCodes.Status404NotFound, title: "Patient not found");

    private static async Task<Results<Ok<SiteSummary>, ProblemHttpResult, ValidationProblem>> GetSiteAsync(string siteId, IGrainFactory grains, HttpContext http)
    {
        if (!ClinicalIds.IsSiteId(siteId))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["site_id"] = [$"format: 'site_id' must be {ClinicalIds.SiteIdShape}."] },
                title: "Invalid site_id");
        }

        if (!SiteScope.Allows(http.User, siteId))
        {
            return SiteScope.Forbidden(http.User, "A site credential reads its own site only.");
        }

        var summary = await grains.Site(siteId).GetSummaryAsync();
        // The counts, not LastReceivedAt: the grain reloads counts from the journal after a restart, not that time.
        return summary.Accepted.IsEmpty && summary.Duplicates.IsEmpty && summary.Rejected.IsEmpty
            ? TypedResults.Problem($"No message was ever received from site {siteId}.", statusCode: StatusCodes.Status404NotFound, title: "Site not found")
            : TypedResults.Ok(summary);
    }
}

/// <summary>A patient's current features: every feature of the catalogue version by name, null where the value is missing (NaN).</summary>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="AsOf">The evaluation time t: the latest clinical timestamp (whole seconds) of the patient's stored messages.</param>
/// <param name="FeatureVersion">The feature catalogue version; a model must be served vectors of the version it was trained on.</param>
/// <param name="Features">Values by feature name, in catalogue order; null for a missing value.</param>
public sealed record PatientFeaturesResponse(string PatientId, DateTimeOffset AsOf, string FeatureVersion, IReadOnlyDictionary<string, double?> Features);
