using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>What <c>export sdtm</c> asks for: a domain, a range of clinical dates, STUDYID and the file written.</summary>
internal sealed record SdtmExport(string Domain, DateOnly? From, DateOnly? To, string? StudyId, string? File);

/// <summary>
/// <c>ClinicalTrials.Silo import sdtm DIR --site-id SITE --study-phase "Phase II" [--urls URL]</c>: sends every
/// Dataset-JSON file of DIR (<c>*.json</c>, <c>*.ndjson</c>, in name order) to the running silo's
/// <c>POST /api/import/sdtm</c>, so the files take the one ingest path, and prints each dataset's answer. Exits 0 when
/// every file was taken (whatever became of its rows), 1 when a file was refused or no silo answered, 2 on a usage error.
/// <c>export sdtm --domain VS [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--study-id ID] [--out FILE] [--urls URL]</c> writes
/// the running silo's <c>GET /api/export/sdtm</c> to FILE (default: the domain's name, e.g. vs.json).
/// </summary>
internal static class SdtmCommand
{
    public static async Task<int> ExportAsync(SdtmExport export, SiloEndpoint silo)
    {
        var query = string.Join('&', new[]
            {
                ("domain", export.Domain), ("from", Date(export.From)), ("to", Date(export.To)), ("study_id", export.StudyId),
            }
            .Where(p => p.Item2 is not null)
            .Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        using var http = silo.CreateClient(TimeSpan.FromMinutes(10));
        try
        {
            using var response = await http.GetAsync($"{silo.BaseUrl}/api/export/sdtm?{query}");
            var body = await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode)
            {
                Console.WriteLine($"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
                return 1;
            }

            var file = export.File ?? $"{export.Domain.ToLowerInvariant()}.json";
            await File.WriteAllBytesAsync(file, body);
            Console.WriteLine($"{file}: {body.Length} bytes");
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"No answer at {silo.BaseUrl} ({e.Message}); start the silo or pass --urls.");
            return 1;
        }
    }

    public static async Task<int> ImportAsync(DirectoryInfo directory, string siteId, string studyPhase, SiloEndpoint silo)
    {
        var files = directory.EnumerateFiles()
            .Select(f => f.FullName)
            .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            await Console.Error.WriteLineAsync($"No *.json or *.ndjson file in {directory}.");
            return SiloCommandLine.UsageError;
        }

        using var http = silo.CreateClient(TimeSpan.FromMinutes(10));
        var failed = false;
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            using var content = new StreamContent(stream);
            content.Headers.ContentType = new MediaTypeHeaderValue(file.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) ? "application/x-ndjson" : "application/json");
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync(
                    $"{silo.BaseUrl}/api/import/sdtm?site_id={Uri.EscapeDataString(siteId)}&study_phase={Uri.EscapeDataString(studyPhase)}", content);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.WriteLine($"{Path.GetFileName(file)}: no answer at {silo.BaseUrl} ({e.Message}); start the silo or pass --urls.");
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

    private static string? Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

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
