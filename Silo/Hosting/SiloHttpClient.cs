using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>The HTTP client the command-line tools (doctor, import, export) call a running silo with.</summary>
internal static class SiloHttpClient
{
    /// <summary>
    /// A client that sends the credential of <c>--api-key</c>, or of <c>$CLINICAL_API_KEY</c> when the option is absent
    /// (an API key or a staff token, as a bearer credential; docs/security.md).
    /// </summary>
    public static HttpClient Create(IConfiguration configuration, TimeSpan timeout)
    {
        var http = new HttpClient { Timeout = timeout };
        if ((configuration["api-key"] ?? Environment.GetEnvironmentVariable("CLINICAL_API_KEY")) is { Length: > 0 } credential)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        return http;
    }
}
