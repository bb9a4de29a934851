using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Security;

/// <summary><c>Security:RateLimit</c>: how many requests one credential may make, so that one runaway client cannot starve the others.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per second one credential (without one: one client address) may make on average; 0 turns the limit off.</summary>
    public int RequestsPerSecond { get; set; } = 5_000;

    /// <summary>How many requests a credential may make at once after a quiet spell (a token bucket this deep).</summary>
    public int Burst { get; set; } = 10_000;

    public bool IsValid => RequestsPerSecond >= 0 && (RequestsPerSecond == 0 || Burst >= 1);
}

/// <summary>
/// The per-credential limit: a token bucket per key or token subject (ASP.NET Core's rate limiter), after authentication
/// so that it knows who is asking. A request over the limit is answered 429 with <c>Retry-After</c> and problem details,
/// before any work is done. A batch is one request: the batch endpoints' own size limits bound what one request carries.
/// </summary>
internal static class RateLimits
{
    public static IServiceCollection AddClinicalRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<SecurityOptions>>((o, security) =>
        {
            var limit = security.Value.RateLimit;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => limit.RequestsPerSecond == 0
                ? RateLimitPartition.GetNoLimiter("off")
                : RateLimitPartition.GetTokenBucketLimiter(Caller(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.Burst,
                    TokensPerPeriod = limit.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            o.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                var response = rejected.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = $"This credential may make {limit.RequestsPerSecond} requests per second (bursts of {limit.Burst}); retry after {seconds} s.",
                    },
                });
            };
        });
        return services;
    }

    /// <summary>The key or token subject; an unauthenticated caller by its address (it only ever gets 401 or liveness).</summary>
    private static string Caller(HttpContext context) =>
        context.User.FindFirst(ClinicalClaims.Subject)?.Value ?? $"address:{context.Connection.RemoteIpAddress}";
}
