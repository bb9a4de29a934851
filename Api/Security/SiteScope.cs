using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// Site isolation: a credential of role <c>site</c> acts for its own site only. Staff credentials are not scoped; a site
/// credential without a site (a token minted without one) is scoped to no site at all.
/// </summary>
public static class SiteScope
{
    /// <summary>The one site the caller may write for and read, or null when the caller is not limited to a site.</summary>
    public static string? Of(ClaimsPrincipal user) =>
        user.FindFirst(ClinicalClaims.SiteId)?.Value ?? (user.IsInRole(Roles.Site) && !user.IsInRole(Roles.Admin) ? "" : null);

    /// <summary>Whether the caller may act for <paramref name="siteId"/>.</summary>
    public static bool Allows(ClaimsPrincipal user, string? siteId) => Of(user) is not { } scope || string.Equals(scope, siteId, StringComparison.Ordinal);

    /// <summary>
    /// Whether the caller may send a message for <paramref name="siteId"/>. A message whose site cannot be read (not JSON,
    /// no site_id) is let through to validation, which rejects it for that reason and quarantines it under no site.
    /// </summary>
    public static bool MayWrite(ClaimsPrincipal user, string? siteId) => siteId is null || Allows(user, siteId);

    /// <summary>403 naming <c>site_id</c>: the data belongs to another site than the caller's.</summary>
    public static ProblemHttpResult Forbidden(ClaimsPrincipal user, string detail, IReadOnlyList<int>? indexes = null)
    {
        var extensions = new Dictionary<string, object?>
        {
            ["errors"] = new Dictionary<string, string[]> { ["site_id"] = [$"site_scope: this credential acts for site '{Of(user)}' only."] },
        };
        if (indexes is not null)
        {
            extensions["indexes"] = indexes;
        }

        return TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Another site's data", extensions: extensions);
    }
}
