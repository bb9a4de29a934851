using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// Headers on every answer that keep browsers and caches from doing what an API's answers never need: guessing content
/// types, framing the pages, sending the URL (which may hold a pseudonymous patient id) on, or keeping patient data in a
/// cache. HSTS is added on HTTPS by <c>UseHsts</c>.
/// </summary>
internal static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        headers[HeaderNames.XFrameOptions] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers[HeaderNames.ContentSecurityPolicy] = "frame-ancestors 'none'";
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            headers[HeaderNames.CacheControl] = "no-store";
        }

        return next(context);
    });
}
