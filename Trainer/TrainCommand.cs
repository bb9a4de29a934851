using System.Globalization;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Training;
using Spectre.Console;

namespace ClinicalTrials.Trainer;

/// <summary>The <c>train</c> command's settings.</summary>
public sealed record TrainSettings(string DataDirectory, DateOnly? From, DateOnly? To, string Source, string? Api, TrainerParameters Parameters, string? Version);

/// <summary>
/// <c>train</c>: wires the job from the command line and the same configuration keys as the silo
/// (<c>ConnectionStrings__Postgres</c> for the tracking database, <c>Predictions__Thresholds__Medium/High</c>), shows
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
        ITrainingRows rows;
        switch (settings.Source)
        {
            case "bronze":
                rows = new ReplayedHistories($"bronze replay of {Path.GetFullPath(settings.DataDirectory)}", BronzeHistories.Read(settings.DataDirectory));
                break;
            case "lake":
                // TODO(lake): adapter to the lake's OfflineFeatureStore reader once branch 'lake' is merged.
                AnsiConsole.MarkupLine("[red]The offline feature store reader (branch 'lake') is not merged yet; use --source bronze.[/]");
                return 1;
            default:
                AnsiConsole.MarkupLine("[red]--source must be 'lake' or 'bronze'.[/]");
                return 2;
        }

        using var http = settings.Api is { } url ? new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/") } : null;
        IModelRegistrar registrar = http is null ? new StorageRegistrar(settings.DataDirectory) : new ApiRegistrar(http);
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
            var table = new Table().AddColumns("split", "rows", "positives", "AUROC", "AUPRC", "Brier");
            foreach (var (split, m) in metadata.Metrics)
            {
                table.AddRow(split, m.Rows.ToString("N0", CultureInfo.InvariantCulture), m.Positives.ToString("N0", CultureInfo.InvariantCulture),
                    m.Auroc.ToString("0.0000", CultureInfo.InvariantCulture), m.Auprc.ToString("0.0000", CultureInfo.InvariantCulture),
                    m.Brier.ToString("0.0000", CultureInfo.InvariantCulture));
            }

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

    private static double? Setting(string name) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
