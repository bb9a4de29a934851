using System.Globalization;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Training;
using Spectre.Console;

namespace ClinicalTrials.Trainer;

/// <summary>
/// The <c>train</c> command's settings; <c>Label</c> (outcome, horizon, censoring) is <see cref="LabelDefinition.Default"/>
/// when null; <c>ApiKey</c> is the credential for registering with <c>Api</c>.
/// </summary>
public sealed record TrainSettings(
    string DataDirectory, DateOnly? From, DateOnly? To, string Source, string? Api, TrainerParameters Parameters, string? Version,
    LabelDefinition? Label = null, string? ApiKey = null);

/// <summary>
/// <c>train</c>: wires the job from the command line and the same configuration keys as the silo, from the environment
/// (<c>Storage__Provider</c> and <c>Storage__S3__*</c> for the lake, <c>ConnectionStrings__Postgres</c> for the tracking
/// database, <c>Predictions__Thresholds__Medium/High</c>), shows
/// progress, and turns the errors an operator can fix into one clear line and exit code 1.
/// </summary>
public static class TrainCommand
{
    public static async Task<int> RunAsync(TrainSettings settings, CancellationToken cancellationToken)
    {
        var to = settings.To ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var from = settings.From ?? to.AddDays(-89);
        var thresholds = new RiskThresholds
        {
            Medium = Setting("Predictions__Thresholds__Medium") ?? new RiskThresholds().Medium,
            High = Setting("Predictions__Thresholds__High") ?? new RiskThresholds().High,
        };
        var storageOptions = StorageFromEnvironment();
        if (storageOptions is null)
        {
            AnsiConsole.MarkupLine("[red]Storage__Provider must be 'Local' or 'S3'.[/]");
            return 2;
        }

        if (storageOptions.Problem() is { } problem)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(problem)}[/]");
            return 2;
        }

        var label = settings.Label ?? LabelDefinition.Default;
        if (label.Problem() is { } labelProblem)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(labelProblem)}[/]");
            return 2;
        }

        var storage = storageOptions.Create(settings.DataDirectory);
        ITrainingRows rows;
        try
        {
            rows = settings.Source switch
            {
                "lake" => await LakeTrainingRows.OpenAsync(storage, from, to, label, cancellationToken),
                "bronze" => new ReplayedHistories($"bronze replay of {Path.GetFullPath(settings.DataDirectory)}", BronzeHistories.Read(settings.DataDirectory), label),
                _ => throw new TrainingException("--source must be 'lake' or 'bronze'."),
            };
        }
        catch (Exception e) when (e is TrainingException or InvalidDataException)
        {
            AnsiConsole.MarkupLine($"[red]Training failed:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        using var http = settings.Api is { } url ? new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/") } : null;
        if (http is not null && settings.ApiKey is { Length: > 0 } credential)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
        }

        IModelRegistrar registrar = http is null ? new StorageRegistrar(storage) : new ApiRegistrar(http);
        await using var tracking = TrackingStore.Create(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres"), settings.DataDirectory);
        try
        {
            TrainingResult? result = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var progress = new Progress<TrainingProgress>(p =>
                    {
                        foreach (var earlier in tasks.Values.Where(t => !t.IsFinished && t.Description.Split(':')[0] != p.Step))
                        {
                            earlier.Value = earlier.MaxValue;
                            earlier.StopTask();
                        }

                        if (!tasks.TryGetValue(p.Step, out var task))
                        {
                            tasks[p.Step] = task = context.AddTask(p.Step);
                            task.IsIndeterminate = true;
                        }

                        task.Description = Markup.Escape(p.Detail is null ? p.Step : $"{p.Step}: {p.Detail}");
                        if (p.Fraction is { } fraction)
                        {
                            task.IsIndeterminate = false;
                            task.Value = fraction * task.MaxValue;
                        }
                    });
                    result = await new TrainingJob(rows, settings.DataDirectory, settings.Parameters, thresholds, registrar, tracking, progress)
                        .RunAsync(from, to, settings.Version, cancellationToken);
                });

            var metadata = result!.Metadata;
            var table = new Table().AddColumns("split", "rows", "positives", "AUROC", "95 % CI", "AUPRC", "Brier", "ECE");
            foreach (var (split, m) in metadata.Metrics)
            {
                var interval = result.AurocIntervals?.GetValueOrDefault(split) is { } i
                    ? string.Create(CultureInfo.InvariantCulture, $"{i.Lower:0.0000}-{i.Upper:0.0000}")
                    : "n/a";
                table.AddRow(split, m.Rows.ToString("N0", CultureInfo.InvariantCulture), m.Positives.ToString("N0", CultureInfo.InvariantCulture),
                    m.Auroc.ToString("0.0000", CultureInfo.InvariantCulture), interval, m.Auprc.ToString("0.0000", CultureInfo.InvariantCulture),
                    m.Brier.ToString("0.0000", CultureInfo.InvariantCulture),
                    Models.Monitoring.BinaryMetrics.ExpectedCalibrationError(m.Calibration).ToString("0.0000", CultureInfo.InvariantCulture));
            }

            AnsiConsole.MarkupLine($"Label: {Markup.Escape(metadata.LabelOrLegacy.Description)}; training took {result.TrainingTime.TotalSeconds:0.0} s.");

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Model [green]{metadata.Version}[/] registered as staging ({Markup.Escape(registrar.Description)}); artifacts in {Markup.Escape(result.Folder)}; run {result.RunId}.");
            Console.WriteLine($"version={metadata.Version}");
            return 0;
        }
        catch (TrainingException e)
        {
            AnsiConsole.MarkupLine($"[red]Training failed:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
    }

    /// <summary>The silo's <c>Storage</c> section, from the same environment variables.</summary>
    private static StorageOptions? StorageFromEnvironment()
    {
        var options = new StorageOptions();
        if (Environment.GetEnvironmentVariable("Storage__Provider") is { Length: > 0 } provider)
        {
            if (!Enum.TryParse<StorageProvider>(provider, ignoreCase: true, out var parsed))
            {
                return null;
            }

            options.Provider = parsed;
        }

        options.S3.ServiceUrl = Environment.GetEnvironmentVariable("Storage__S3__ServiceUrl");
        options.S3.Bucket = Environment.GetEnvironmentVariable("Storage__S3__Bucket");
        options.S3.AccessKey = Environment.GetEnvironmentVariable("Storage__S3__AccessKey");
        options.S3.SecretKey = Environment.GetEnvironmentVariable("Storage__S3__SecretKey");
        options.S3.Region = Environment.GetEnvironmentVariable("Storage__S3__Region") ?? options.S3.Region;
        return options;
    }

    private static double? Setting(string name) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
