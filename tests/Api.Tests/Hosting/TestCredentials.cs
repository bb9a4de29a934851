using System.Net.Http.Headers;
using ClinicalTrials.Api.Security;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// The credential every shared test host is started with (<c>Security:BootstrapAdminKey</c>) and every client the
/// fixtures create sends, so a test that is not about access calls the gateway as an administrator.
/// </summary>
public static class TestCredentials
{
    public const string AdminKey = "ctk_00000000a11e_the-shared-test-fixtures-admin-key";

    /// <summary>The silo setting that makes <see cref="AdminKey"/> its first key.</summary>
    public const string Setting = "Security:BootstrapAdminKey";

    /// <summary>
    /// Makes <paramref name="http"/> send <paramref name="credential"/> with every request: an API key in <c>X-Api-Key</c>
    /// (which, unlike <c>Authorization</c>, HttpClient keeps when it follows a redirect), a token as a bearer token.
    /// </summary>
    public static HttpClient Sending(this HttpClient http, string? credential = AdminKey)
    {
        if (credential is null)
        {
            return http;
        }

        if (ApiKeyStore.KeyIdOf(credential) is not null)
        {
            http.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.Header, credential);
        }
        else
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        return http;
    }
}
