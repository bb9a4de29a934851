using System.Net.Http.Headers;
using ClinicalTrials.Api.Doctor;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The running silo the command-line tools (doctor, import, export) call: its base address and the credential sent
/// (an API key or a staff token, as a bearer credential; docs/security.md).
/// </summary>
internal sealed record SiloEndpoint(string BaseUrl, string? Credential)
{
    /// <summary>
    /// From <c>--urls</c> (the first of them), else <c>$ASPNETCORE_URLS</c>, else the platform's default; and from
    /// <c>--api-key</c>, else <c>$CLINICAL_API_KEY</c>. The variables are read here, not shown as defaults in the help,
    /// which would print the key.
    /// </summary>
    public static SiloEndpoint From(string? urls, string? apiKey) => new(
        PipelineDoctor.LocalBase((urls ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? ClinicalPlatformExtensions.DefaultUrls).Split(';')[0]),
        apiKey ?? Environment.GetEnvironmentVariable("CLINICAL_API_KEY"));

    public HttpClient CreateClient(TimeSpan timeout)
    {
        var http = new HttpClient { Timeout = timeout };
        if (Credential is { Length: > 0 } credential)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        return http;
    }
}
