using System.Net.Http.Json;
using System.Text.Json;
using ClinicalTrials.Api;
using ClinicalTrials.Api.Doctor;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// <c>ClinicalTrials.Silo doctor [--urls URL] [--api-key KEY]</c>: asks the running silo at URL (the address it was
/// started with, <c>--urls</c> or <c>ASPNETCORE_URLS</c>; default http://localhost:8080) to walk its pipeline
/// (<see cref="PipelineDoctor"/>), prints each check with its figure and hint and each layer's counts, and exits 1 when a
/// check failed (or no silo answers), else 0.
/// </summary>
internal static class DoctorCommand
{
    public static async Task<int> RunAsync(SiloEndpoint silo)
    {
        var url = silo.BaseUrl;
        var json = new JsonSerializerOptions();
        ApiJson.Configure(json);
        DoctorReport? report;
        try
        {
            using var http = silo.CreateClient(TimeSpan.FromMinutes(1));

            report = await http.GetFromJsonAsync<DoctorReport>($"{url}/api/pipeline/doctor", json);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"FAIL  silo: no answer at {url} ({e.Message})");
            Console.WriteLine($"      hint: start it (dotnet run -c Release --project Silo -- --urls {url}), or pass the address it listens on with --urls.");
            return 1;
        }

        Print(url, report!);
        return report!.Status == CheckStatus.Fail ? 1 : 0;
    }

    private static void Print(string url, DoctorReport report)
    {
        Console.WriteLine($"Pipeline doctor: {url}, {report.Profile} profile, {report.CheckedAt:u}");
        foreach (var level in report.Checks.GroupBy(c => c.Level))
        {
            Console.WriteLine();
            Console.WriteLine(level.Key);
            foreach (var check in level)
            {
                Console.WriteLine($"  {check.Status.ToString().ToUpperInvariant(),-4}  {check.Name,-17} {check.Figure}");
                if (check.Hint is { } hint)
                {
                    Console.WriteLine($"        {"",-17} hint: {hint}");
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("layers");
        foreach (var layer in report.Layers)
        {
            Console.WriteLine($"  {layer.Layer,-17} {layer.Files,8} files {layer.Rows,12} rows   latest {layer.LatestPartition ?? "-"}   {layer.Location}");
        }

        var failed = report.Checks.Count(c => c.Status == CheckStatus.Fail);
        var warned = report.Checks.Count(c => c.Status == CheckStatus.Warn);
        Console.WriteLine();
        Console.WriteLine($"{report.Status.ToString().ToUpperInvariant()}: {report.Checks.Count} checks, {failed} failed, {warned} warned");
    }
}
