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
/// when null; <c>ApiKey</c> is the credential for registering with <c>Api</c>; <c>Settings</c> are configuration keys
/// given on the command line (<c>--Section:Key=value</c>, see <see cref="TrainerConfiguration"/>).
/// </summary>
public sealed record TrainSettings(
    string DataDirectory, DateOnly? From, DateOnly? To, string? Api, TrainerParameters Parameters, string? Version,
    LabelDefinition? Label = null, string? ApiKey = null, IReadOnlyList<string>? Settings = null);

/// <summary>
/// <c>train</c>: wires the job from the command line and the silo's configuration (<see cref="TrainerConfiguration"/>:
/// <c>Storage</c> for the lake, <c>ConnectionStrings:Postgres</c> for the tracking database,
/// <c>Predictions:Thresholds</c>), shows progress, and turns the errors an operator can fix into one clear line: exit
/// code 2 for a setting, 1 for the data.
/// </summary>
public static class TrainCommand
{
    public static Task<int> RunAsync(TrainSettings settings, CancellationToken cancellationToken) =>
        RunAsync(settings, Console.Error, cancellationToken);

    /// <param name="settings">The command line.</param>
    /// <param name="error">Where a setting's problem is written, as one line.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<int> RunAsync(TrainSettings settings, TextWriter error, CancellationToken cancellationToken)
    {
        var to = settings.To ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var from = settings.From ?? to.AddDays(-89);
        var (arguments, argumentProblem) = SettingArguments.Split(settings.Settings ?? []);
        var (configuration, problem) = argumentProblem is null ? TrainerConfiguration.Bind(TrainerConfiguration.Read(arguments)) : (null, argumentProblem);
        var label = settings.Label ?? LabelDefinition.Default;
        if ((problem ?? label.Problem()) is { } settingProblem)
        {
            await error.WriteLineAsync(settingProblem);
            return 2;
        }

        var storage = configuration!.Storage.Create(settings.DataDirectory);
        ITrainingRows rows;
        try
        {
            rows = await LakeTrainingRows.OpenAsync(storage, from, to, label, cancellationToken);
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
        await using var tracking = TrackingStore.Create(configuration.PostgresConnectionString, settings.DataDirectory);
        try
        {
            TrainingResult? result = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var progress = new OrderedProgress<TrainingProgress>(p =>
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
                    result = await new TrainingJob(rows, settings.DataDirectory, settings.Parameters, configuration.Thresholds, registrar, tracking, progress)
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
}
