using ClinicalTrials.Api.Security;
using Orleans.Dashboard;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The Orleans Dashboard at <c>/dashboard</c>: silos, activations, call rates, latencies and reminders. Its grain-state
/// view is refused, since a patient grain's state holds patient values (they are read through <c>/api/patients</c>),
/// and its live log view is off (<see cref="ClinicalPlatformExtensions"/>). Staff only, like every endpoint (<see cref="EndpointAccess"/>).
/// </summary>
public static class DashboardEndpoints
{
    public const string Prefix = "/dashboard";

    public static void MapClinicalDashboard(this WebApplication app) =>
        app.MapOrleansDashboard(Prefix).WithEndpointAccess().AddEndpointFilter(async (context, next) =>
            context.HttpContext.Request.Path.StartsWithSegments($"{Prefix}/GrainState", StringComparison.OrdinalIgnoreCase)
                ? TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Grain state is not shown",
                    detail: "Grain state holds patient values; read patients through /api/patients.")
                : await next(context));
}
