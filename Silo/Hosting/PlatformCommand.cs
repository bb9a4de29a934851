using ClinicalTrials.Api;
using ClinicalTrials.Api.Security;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// <c>ClinicalTrials.Silo [run]</c>: the platform, until it is stopped. Exits 3 with one line, before anything starts,
/// when its ports are taken, its cluster database cannot be used or its audit checkpoint key is missing or unusable.
/// </summary>
public static class PlatformCommand
{
    public const int StartRefused = 3;

    /// <param name="settings">Configuration keys from the command line (<c>--Section:Key=value</c>).</param>
    public static async Task<int> RunAsync(string[] settings)
    {
        // The content root is the silo's own directory, so its appsettings.json applies whatever directory it is started
        // from (a service manager, a script); relative data paths such as the default ./data still follow the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = settings, ContentRootPath = AppContext.BaseDirectory });
        if ((SiloOptions.From(builder.Configuration).PortInUse()
                ?? await ClusterProfile.CheckBeforeStartAsync(builder.Configuration)
                ?? AuditCheckpointKey.StartProblem(builder.Configuration)) is { } problem)
        {
            // One line, not a stack trace: a supervisor restarting the silo in a loop shows the operator what to fix.
            await Console.Error.WriteLineAsync(problem);
            return StartRefused;
        }

        builder.AddClinicalPlatform();

        var app = builder.Build();
        app.MapClinicalApi();
        app.MapClinicalDashboard();
        app.MapClinicalMetrics();
        await app.RunAsync();
        return 0;
    }
}
