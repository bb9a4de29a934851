using System.Globalization;
using System.Text.Json;
using ClinicalTrials.Api;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Storage;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// <c>dotnet run --project Silo -- run-job NAME [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--data-dir DIR]</c>: runs one
/// pipeline job in this process, without starting the silo, with the silo's configuration (appsettings, environment,
/// <c>--Storage:Provider=S3</c> …), prints the run's record as JSON and exits 0 when it succeeded. Run it while the silo
/// is stopped, or for a job the silo is not running at that moment: only the job grain keeps runs from overlapping.
/// The embedded profile's only: a cluster runs its jobs through the API.
/// </summary>
public static class PipelineCommand
{
    public static bool Handles(string[] args) => args is ["run-job", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2 || args[1].StartsWith('-'))
        {
            await Console.Error.WriteLineAsync("usage: run-job bronze-to-silver|offline-features|retention [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--data-dir DIR]");
            return 2;
        }

        // As the silo: the settings beside the assembly apply whatever the working directory.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args[2..], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args[2..], new Dictionary<string, string>
        {
            ["--data-dir"] = $"{JournalOptions.Section}:{nameof(JournalOptions.DataDirectory)}",
        });
        if (ClusterProfileOptions.From(builder.Configuration).Mode == ClusterMode.Postgres)
        {
            // The cluster's bronze and job progress are in its database, and its job grains keep runs from overlapping.
            await Console.Error.WriteLineAsync(
                "In the cluster profile a job runs in the cluster: POST /api/pipeline/jobs/{name}/run on any silo.");
            return 2;
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLakeOptions();
        builder.Services.AddOptions<JournalOptions>().BindConfiguration(JournalOptions.Section);
        using var host = builder.Build();
        var dataDirectory = host.Services.GetRequiredService<IOptions<JournalOptions>>().Value.DataDirectory;
        var lake = new LakeContext(dataDirectory, host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Create(dataDirectory),
            host.Services.GetRequiredService<IOptions<PipelineOptions>>().Value, TimeProvider.System);
        var jobs = new PipelineJobs(lake);
        if (!jobs.Exists(args[1]))
        {
            await Console.Error.WriteLineAsync($"No pipeline job is named '{args[1]}'; jobs: {string.Join(", ", jobs.Names)}.");
            return 2;
        }

        var arguments = new JobArguments(Date(builder.Configuration["from"]), Date(builder.Configuration["to"]));
        if (arguments.Problem(lake.Today) is { } problem)
        {
            await Console.Error.WriteLineAsync($"--{problem.Field}: {problem.Rule}");
            return 2;
        }

        var record = await jobs.RunAsync(args[1], arguments);
        var json = new JsonSerializerOptions { WriteIndented = true };
        ApiJson.Configure(json);
        Console.WriteLine(JsonSerializer.Serialize(record, json));
        return record.Status == "succeeded" ? 0 : 1;
    }

    private static DateOnly? Date(string? text) =>
        text is null ? null : DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}
