using System.Net.Http.Headers;
using System.Text.Json;
using ClinicalTrials.Api.Doctor;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// <c>dotnet run --project Silo -- import sdtm DIR --site-id SITE --study-phase "Phase II" [--urls URL]</c>: sends every
/// Dataset-JSON file of DIR (<c>*.json</c>, <c>*.ndjson</c>, in name order) to the running silo's
/// <c>POST /api/import/sdtm</c>, so the files take the one ingest path, and prints each dataset's answer. Exits 0 when
/// every file was taken (whatever became of its rows), 1 when a file was refused or no silo answered, 2 on a usage error.
/// <c>export sdtm --domain VS [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--study-id ID] [--out FILE] [--urls URL]</c> writes
/// the running silo's <c>GET /api/export/sdtm</c> to FILE (default: the domain's name, e.g. vs.json).
/// </summary>
public static class SdtmCommand
{
    private const string DefaultUrl = "http://localhost:8080";
    private const string Usage = "usage: import sdtm DIR --site-id SITE001 --study-phase \"Phase II\" [--urls URL]";
    private const string ExportUsage = "usage: export sdtm --domain DM|VS|LB|AE [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--study-id ID] [--out FILE] [--urls URL]";

    public static bool Handles(string[] args) => args is ["import" or "export", ..];

    public static Task<int> RunAsync(string[] args) => args[0] == "export" ? ExportAsync(args) : ImportAsync(args);

    private static async Task<int> ExportAsync(string[] args)
    {
        var configuration = args is ["export", "sdtm", ..] ? Settings(args[2..]) : null;
        if (configuration?["domain"] is not { } domain)
        {
            await Console.Error.WriteLineAsync(ExportUsage);
            return 2;
        }

        var query = string.Join('&', new[] { "domain", "from", "to", "study-id" }
            .Where(k => configuration[k] is not null)
            .Select(k => $"{k.Replace('-', '_')}={Uri.EscapeDataString(configuration[k]!)}"));
        var url = BaseUrl(configuration);
        using var http = SiloHttpClient.Create(configuration, TimeSpan.FromMinutes(10));
        try
        {
            using var response = await http.GetAsync($"{url}/api/export/sdtm?{query}");
            var body = await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode)
            {
                Console.WriteLine($"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
                return 1;
            }

            var file = configuration["out"] ?? $"{domain.ToLowerInvariant()}.json";
            await File.WriteAllBytesAsync(file, body);
            Console.WriteLine($"{file}: {body.Length} bytes");
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"No answer at {url} ({e.Message}); start the silo or pass --urls.");
            return 1;
        }
    }

    private static IConfiguration Settings(string[] args) => new ConfigurationBuilder().AddEnvironmentVariables("ASPNETCORE_").AddCommandLine(args).Build();

    private static string BaseUrl(IConfiguration configuration) =>
        PipelineDoctor.LocalBase((configuration[WebHostDefaults.ServerUrlsKey] ?? DefaultUrl).Split(';')[0]);

    private static async Task<int> ImportAsync(string[] args)
    {
        if (args is not ["import", "sdtm", var directory, ..] || directory.StartsWith('-'))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        var configuration = Settings(args[3..]);
        var (site, phase) = (configuration["site-id"], configuration["study-phase"]);
        if (site is null || phase is null || !Directory.Exists(directory))
        {
            await Console.Error.WriteLineAsync(Directory.Exists(directory) ? Usage : $"No directory {directory}.");
            return 2;
        }

        var url = BaseUrl(configuration);
        var files = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            await Console.Error.WriteLineAsync($"No *.json or *.ndjson file in {directory}.");
            return 2;
        }

        using var http = SiloHttpClient.Create(configuration, TimeSpan.FromMinutes(10));
        var failed = false;
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            using var content = new StreamContent(stream);
            content.Headers.ContentType = new MediaTypeHeaderValue(file.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) ? "application/x-ndjson" : "application/json");
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync($"{url}/api/import/sdtm?site_id={Uri.EscapeDataString(site)}&study_phase={Uri.EscapeDataString(phase)}", content);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.WriteLine($"{Path.GetFileName(file)}: no answer at {url} ({e.Message}); start the silo or pass --urls.");
                return 1;
            }

            using (response)
            {
                var answer = await response.Content.ReadAsStringAsync();
                failed |= !response.IsSuccessStatusCode;
                Console.WriteLine($"{Path.GetFileName(file)}: {(int)response.StatusCode}");
                Console.WriteLine(Indented(answer));
            }
        }

        return failed ? 1 : 0;
    }

    private static string Indented(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
        catch (JsonException)
        {
            return json;
        }
    }
}
