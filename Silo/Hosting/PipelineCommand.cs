using System.Text.Json;
using ClinicalTrials.Api;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// <c>ClinicalTrials.Silo run-job NAME [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--data-dir DIR]</c>: runs one pipeline job
/// in this process, without starting the silo, with the silo's configuration (appsettings, environment,
/// <c>--Storage:Provider=S3</c> …), prints the run's record as JSON and exits 0 when it succeeded. Run it while the silo
/// is stopped, or for a job the silo is not running at that moment: only the job grain keeps runs from overlapping.
/// The embedded profile's only: a cluster runs its jobs through the API.
/// </summary>
public static class PipelineCommand
{
    /// <param name="job">The job's name.</param>
    /// <param name="arguments">The backfill range, or none for an incremental run.</param>
    /// <param name="settings">Configuration keys from the command line (<c>--Section:Key=value</c>).</param>
    public static async Task<int> RunAsync(string job, JobArguments arguments, string[] settings)
    {
        // As the silo: the settings beside the assembly apply whatever the working directory.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
        if (ClusterProfileOptions.From(builder.Configuration).Mode == ClusterMode.Postgres)
        {
            // The cluster's bronze and job progress are in its database, and its job grains keep runs from overlapping.
            await Console.Error.WriteLineAsync(
                "In the cluster profile a job runs in the cluster: POST /api/pipeline/jobs/{name}/run on any silo.");
            return SiloCommandLine.UsageError;
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLakeOptions();
        builder.Services.AddOptions<JournalOptions>().BindConfiguration(JournalOptions.Section);
        using var host = builder.Build();
        var dataDirectory = host.Services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory;
        // The retention job prunes the audit trail too, as in the silo.
        var lake = new LakeContext(dataDirectory, host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Create(dataDirectory),
            host.Services.GetRequiredService<IOptions<PipelineOptions>>().Value, TimeProvider.System,
            auditTrail: new AuditTrail(AccessDatabase.From(builder.Configuration, dataDirectory), TimeProvider.System));
        var jobs = new PipelineJobs(lake);
        if (!jobs.Exists(job))
        {
            await Console.Error.WriteLineAsync($"No pipeline job is named '{job}'; jobs: {string.Join(", ", jobs.Names)}.");
            return SiloCommandLine.UsageError;
        }

        if (arguments.Problem(lake.Today) is { } problem)
        {
            await Console.Error.WriteLineAsync($"--{problem.Field}: {problem.Rule}");
            return SiloCommandLine.UsageError;
        }

        var record = await jobs.RunAsync(job, arguments);
        var json = new JsonSerializerOptions { WriteIndented = true };
        ApiJson.Configure(json);
        Console.WriteLine(JsonSerializer.Serialize(record, json));
        return record.Status == "succeeded" ? 0 : 1;
    }
}
