using System.Text.RegularExpressions;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary><c>/api/patients</c> and <c>/api/sites</c>: the current state the grains hold.</summary>
public static partial class RegistryApi
{
    public static void MapRegistryApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/patients/{patientId}", GetPatientAsync).WithTags("Patients").WithName("GetPatient")
            .WithSummary("A patient's current state: demographics, latest vitals and labs, adverse events.");
        app.MapGet("/api/sites/{siteId}", GetSiteAsync).WithTags("Sites").WithName("GetSite")
            .WithSummary("A site's message counts and why its messages were rejected.");
    }

    private static async Task<Results<Ok<PatientSummary>, ProblemHttpResult, ValidationProblem>> GetPatientAsync(string patientId, IGrainFactory grains)
    {
        if (!PatientIdPattern().IsMatch(patientId))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["patient_id"] = ["format: 'patient_id' must be 'PT' followed by 8 upper-case letters or digits."] },
                title: "Invalid patient_id");
        }

        return await grains.GetGrain<IPatientGrain>(patientId).GetSummaryAsync() is { } summary
            ? TypedResults.Ok(summary)
            : TypedResults.Problem($"No data was ever accepted for patient {patientId}.", statusCode: StatusCodes.Status404NotFound, title: "Patient not found");
    }

    private static async Task<Ok<SiteSummary>> GetSiteAsync(string siteId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ISiteGrain>(siteId).GetSummaryAsync());

    [GeneratedRegex("^PT[A-Z0-9]{8}$")]
    private static partial Regex PatientIdPattern();
}
