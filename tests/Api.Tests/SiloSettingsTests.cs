using System.Diagnostics;
using System.Net;
using ClinicalTrials.Api.Tests.Hosting;
using static ClinicalTrials.Api.Tests.TestMessages;

namespace ClinicalTrials.Api.Tests;

/// <summary>The silo process reads the settings beside it, whatever directory a service manager starts it from.</summary>
public sealed class SiloSettingsTests
{
    [Fact]
    public async Task Silo_started_from_another_directory_applies_its_appsettings()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path, cancellation);
        using var http = silo.CreateClient();

        using var response = await http.PostAsync("/api/clinical/data", Json(Vitals(NewPatientId(), NewSiteId(), 72)), cancellation);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        // appsettings.json sets Microsoft.AspNetCore to Warning: without it every request would log at Information.
        var waited = Stopwatch.StartNew();
        while (!silo.Output.Contains("Application started", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50, cancellation);
        }

        Assert.Contains("Application started", silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", silo.Output, StringComparison.Ordinal);
    }
}
