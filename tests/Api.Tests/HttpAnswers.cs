using System.Text.Json;

namespace ClinicalTrials.Api.Tests;

/// <summary>Reading the API's answers: JSON bodies, expected statuses and problem details.</summary>
internal static class HttpAnswers
{
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the status and, for any error, an RFC 9457 problem; never a 500.</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        if (status >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>(field, rule) of every entry of a problem's <c>violations</c>.</summary>
    public static List<(string Field, string Rule)> Violations(this JsonElement problem) =>
        problem.GetProperty("violations").EnumerateArray()
            .Select(v => (v.GetProperty("field").GetString()!, v.GetProperty("rule").GetString()!))
            .ToList();
}
