using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// The <c>ApiKey</c> scheme: a key in the <c>X-Api-Key</c> header, or as <c>Authorization: Bearer ctk_…</c> (for tools
/// that only send bearer credentials, such as Prometheus). A revoked, rotated-away or unknown key fails.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyDirectory keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (PresentedKey(Request.Headers) is not { } presented)
        {
            return AuthenticateResult.NoResult();
        }

        if (ApiKeyStore.KeyIdOf(presented) is not { } keyId || await keys.FindAsync(keyId, Context.RequestAborted) is not { } stored
            || stored.Info.Revoked || !stored.Matches(presented))
        {
            // The same answer for an unknown, revoked or wrong key: nothing tells a caller which keys exist.
            return AuthenticateResult.Fail("The API key is unknown, revoked or wrong.");
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(Identity(stored.Info)), SchemeName));
    }

    /// <summary>401 saying which credentials the gateway takes: a bearer token (or key), or the key header.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append(HeaderNames.WWWAuthenticate, "Bearer");
        Response.Headers.Append(HeaderNames.WWWAuthenticate, $"ApiKey header=\"{Header}\"");
        return Task.CompletedTask;
    }

    public static ClaimsIdentity Identity(ApiKeyInfo key)
    {
        var claims = new List<Claim> { new(ClinicalClaims.Subject, $"key:{key.KeyId}"), new(ClinicalClaims.Role, key.Role) };
        if (key.SiteId is { } site)
        {
            claims.Add(new Claim(ClinicalClaims.SiteId, site));
        }

        if (key.IngestOnly)
        {
            claims.Add(new Claim(ClinicalClaims.Scope, ClinicalClaims.IngestOnly));
        }

        return new ClaimsIdentity(claims, SchemeName, ClinicalClaims.Subject, ClinicalClaims.Role);
    }

    /// <summary>The key a request presents, or null; also how the forwarding scheme tells an API key from a JWT.</summary>
    public static string? PresentedKey(IHeaderDictionary headers)
    {
        if (headers[Header].ToString() is { Length: > 0 } key)
        {
            return key;
        }

        var authorization = headers.Authorization.ToString();
        return authorization.StartsWith("Bearer " + ApiKeyStore.Prefix, StringComparison.Ordinal) ? authorization["Bearer ".Length..] : null;
    }
}

/// <summary>
/// The keys this silo has looked up, each trusted for <see cref="SecurityOptions.KeyCacheDuration"/> so a request does not
/// cost a database read; a change made through this silo applies at once (<see cref="Forget"/>), one made through another
/// silo within that time.
/// </summary>
public sealed class ApiKeyDirectory(ApiKeyStore store, TimeProvider time, IOptions<SecurityOptions> options)
{
    private readonly ConcurrentDictionary<string, (StoredKey? Key, DateTimeOffset ReadAt)> _cache = new(StringComparer.Ordinal);

    public async Task<StoredKey?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(keyId, out var cached) && now - cached.ReadAt < options.Value.KeyCacheDuration)
        {
            return cached.Key;
        }

        var key = await store.FindAsync(keyId, cancellationToken);
        if (key is not null)
        {
            // Only real keys: made-up key ids must not fill the memory.
            _cache[keyId] = (key, now);
        }

        return key;
    }

    public void Forget(string keyId) => _cache.TryRemove(keyId, out _);
}
