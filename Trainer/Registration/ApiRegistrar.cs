using System.Net.Http.Json;
using System.Text.Json;

namespace ClinicalTrials.Trainer.Registration;

/// <summary>
/// Registration with a running platform: <c>POST {api}/api/models</c> with every artifact of the folder (base64), so
/// the platform needs no access to the trainer's disk. The platform stores them under its own <c>models/{version}/</c>.
/// </summary>
public sealed class ApiRegistrar(HttpClient http) : IModelRegistrar
{
    public string Description => $"platform {http.BaseAddress}";

    public async Task RegisterAsync(string version, string folder, CancellationToken cancellationToken)
    {
        var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetFileName(f), f => Convert.ToBase64String(File.ReadAllBytes(f)), StringComparer.Ordinal);
        using var response = await http.PostAsJsonAsync("api/models", new { version, files }, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var detail = body;
            try
            {
                using var problem = JsonDocument.Parse(body);
                detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? body : body;
            }
            catch (JsonException)
            {
                // Not problem+json: show the body as it came.
            }

            throw new TrainingException($"The platform at {http.BaseAddress} refused model {version}: {(int)response.StatusCode} {detail}");
        }
    }
}
