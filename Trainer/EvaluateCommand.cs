using System.Globalization;
using ClinicalTrials.Trainer.Evaluation;
using Spectre.Console;

namespace ClinicalTrials.Trainer;

/// <summary>
/// The <c>evaluate</c> command's settings: the model <c>Version</c>, found in the registry of <c>RegistryDirectory</c>
/// (<c>DataDirectory</c> when null); the offline features of <c>DataDirectory</c> from <c>From</c> to <c>To</c>; the
/// output folder (<c>evaluations/{version}-{from}-{to}</c> under <c>DataDirectory</c> when null); an optional hourly
/// score export; configuration keys as for <c>train</c>.
/// </summary>
public sealed record EvaluateSettings(
    string Version, string DataDirectory, DateOnly? From, DateOnly? To, string? RegistryDirectory = null, string? Output = null, string? ExportScores = null,
    IReadOnlyList<string>? Settings = null);

/// <summary><c>evaluate</c>: external validation of a registered model (<see cref="ModelEvaluation"/>); exit code 2 for a setting, 1 for the model or the data.</summary>
public static class EvaluateCommand
{
    public static async Task<int> RunAsync(EvaluateSettings settings, TextWriter error, CancellationToken cancellationToken)
    {
        var to = settings.To ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var from = settings.From ?? to.AddDays(-89);
        var (arguments, argumentProblem) = SettingArguments.Split(settings.Settings ?? []);
        var (configuration, problem) = argumentProblem is null ? TrainerConfiguration.Bind(TrainerConfiguration.Read(arguments)) : (null, argumentProblem);
        if (problem is not null)
        {
            await error.WriteLineAsync(problem);
            return 2;
        }

        var folder = settings.Output ?? Path.Combine(settings.DataDirectory, "evaluations",
            string.Create(CultureInfo.InvariantCulture, $"{settings.Version}-{from:yyyyMMdd}-{to:yyyyMMdd}"));
        var evaluation = new ModelEvaluation(configuration!.Storage.Create(settings.RegistryDirectory ?? settings.DataDirectory),
            configuration.Storage.Create(settings.DataDirectory), configuration.Thresholds,
            new OrderedProgress<TrainingProgress>(p => AnsiConsole.MarkupLine(Markup.Escape(p.Detail is null ? p.Step : $"{p.Step}: {p.Detail}"))));
        EvaluationResult result;
        try
        {
            result = await evaluation.RunAsync(settings.Version, from, to, folder, settings.ExportScores, cancellationToken);
        }
        catch (Exception e) when (e is TrainingException or InvalidDataException)
        {
            AnsiConsole.MarkupLine($"[red]Evaluation failed:[/] {Markup.Escape(e.Message)}");
            return 1;
        }

        var m = result.Metrics;
        var table = new Table().AddColumns("rows", "patients", "positives", "AUROC", "95 % CI", "AUPRC", "Brier", "ECE");
        table.AddRow(m.Rows.ToString("N0", CultureInfo.InvariantCulture), result.Patients.ToString("N0", CultureInfo.InvariantCulture),
            m.Positives.ToString("N0", CultureInfo.InvariantCulture), m.Auroc.ToString("0.0000", CultureInfo.InvariantCulture),
            result.AurocInterval is { } i ? string.Create(CultureInfo.InvariantCulture, $"{i.Lower:0.0000}-{i.Upper:0.0000}") : "n/a",
            m.Auprc.ToString("0.0000", CultureInfo.InvariantCulture), m.Brier.ToString("0.0000", CultureInfo.InvariantCulture),
            Models.Monitoring.BinaryMetrics.ExpectedCalibrationError(m.Calibration).ToString("0.0000", CultureInfo.InvariantCulture));
        AnsiConsole.MarkupLine($"Model [green]{Markup.Escape(result.Model.Version)}[/]: {Markup.Escape(result.Model.LabelOrLegacy.Description)}.");
        AnsiConsole.Write(table);
        foreach (var a in result.Alerting)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"At {a.Name} ({a.Threshold:0.000}): challenge utility {a.Utility:0.000}, {a.AlertsPerPatientDay:0.00} alerts per patient-day, {a.OnsetsFlagged} of {a.Onsets} onsets flagged in the {AlertingAt.FlagWindowHours:0} h before, median lead {a.MedianLeadHours:0.0} h")));
        }

        foreach (var warning in result.Warnings)
        {
            AnsiConsole.MarkupLine($"[yellow]Warning:[/] {Markup.Escape(warning)}");
        }

        AnsiConsole.MarkupLine($"Report, metrics and plots in {Markup.Escape(result.Folder)}.");
        return 0;
    }
}
