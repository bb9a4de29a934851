using System.Globalization;
using System.Text;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Trainer.Evaluation;

namespace ClinicalTrials.Trainer.Reporting;

/// <summary>
/// The short Markdown reports: a training run's (data, parameters, metrics per split, thresholds, top features) and an
/// evaluation's (the model, the data scored, the same metrics). The metrics section is one code for both.
/// </summary>
public static class ReportWriter
{
    public static string Markdown(ModelMetadata metadata, IReadOnlyList<(string Name, double Importance)> topFeatures, double onnxMaxDifference,
        IReadOnlyDictionary<string, Models.Monitoring.AurocInterval> aurocIntervals, IReadOnlyDictionary<string, IReadOnlyList<AlertingAt>> alerting)
    {
        var text = new StringBuilder();
        var data = metadata.TrainingData;
        text.AppendLine(CultureInfo.InvariantCulture, $"# Model {metadata.Version}: {metadata.ModelName}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Trained {metadata.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC from code {metadata.CodeCommit ?? "(unknown)"}, run `{metadata.RunId}`.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Predicts: {metadata.LabelOrLegacy.Description}.");
        text.AppendLine();
        text.AppendLine("## Data");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- Source: {data.Source}, days {data.From:yyyy-MM-dd} to {data.To:yyyy-MM-dd}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- {data.Rows:N0} rows, {data.Patients:N0} patients, {data.Positives:N0} positive ({Share(data.Positives, data.Rows)})");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Features: {metadata.FeatureNames.Count} of version {metadata.FeatureVersion}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Content hash: `{data.ContentHash}`");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"- Split by patient: {string.Join(", ", data.SplitPatients.Select(s => $"{s.Key} {s.Value} patients / {data.SplitRows[s.Key]:N0} rows"))}");
        text.AppendLine();
        text.AppendLine("## Parameters");
        text.AppendLine();
        foreach (var (key, value) in metadata.Parameters)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {key}: {value}");
        }

        text.AppendLine();
        AppendMetrics(text, metadata.Metrics, aurocIntervals, alerting, "test");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"ONNX export: largest difference from ML.NET's probability on the validation rows: {onnxMaxDifference:E2}.");
        text.AppendLine();
        text.AppendLine("## Top features");
        text.AppendLine();
        foreach (var (name, importance) in topFeatures)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- `{name}`: {importance:0.000}");
        }

        text.AppendLine();
        text.AppendLine("## Plots");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"![ROC]({ModelArtifacts.RocPlot}) ![Precision-recall]({ModelArtifacts.PrecisionRecallPlot})");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"![Calibration]({ModelArtifacts.CalibrationPlot}) ![Confusion matrices on test]({ModelArtifacts.ConfusionPlot})");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"![Feature importance]({ModelArtifacts.ImportancePlot})");
        return text.ToString();
    }

    /// <summary>The report of <c>evaluate</c>: which model, which data, and the metrics of the one split scored.</summary>
    public static string EvaluationMarkdown(ModelMetadata model, string source, DateOnly from, DateOnly to, int patients, string split, EvaluationMetrics metrics,
        Models.Monitoring.AurocInterval? aurocInterval, IReadOnlyList<AlertingAt> alerting, IReadOnlyList<string> warnings)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Evaluation of model {model.Version}: {model.ModelName}");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Predicts: {model.LabelOrLegacy.Description}; labels of the data derived with the same definition.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Trained on {model.TrainingData.Source}, days {model.TrainingData.From:yyyy-MM-dd} to {model.TrainingData.To:yyyy-MM-dd} (run `{model.RunId}`).");
        text.AppendLine();
        text.AppendLine("## Data");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- Source: {source}, days {from:yyyy-MM-dd} to {to:yyyy-MM-dd}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- {metrics.Rows:N0} rows, {patients:N0} patients, {metrics.Positives:N0} positive ({Share(metrics.Positives, metrics.Rows)})");
        text.AppendLine(CultureInfo.InvariantCulture, $"- Scored with the model's ONNX graph in ONNX Runtime (the platform's scoring code)");
        foreach (var warning in warnings)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **Warning**: {warning}");
        }

        text.AppendLine();
        AppendMetrics(text, new Dictionary<string, EvaluationMetrics> { [split] = metrics },
            aurocInterval is null ? new Dictionary<string, Models.Monitoring.AurocInterval>() : new() { [split] = aurocInterval },
            new Dictionary<string, IReadOnlyList<AlertingAt>> { [split] = alerting }, split);
        text.AppendLine();
        text.AppendLine("## Plots");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"![ROC]({ModelArtifacts.RocPlot}) ![Precision-recall]({ModelArtifacts.PrecisionRecallPlot})");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"![Calibration]({ModelArtifacts.CalibrationPlot}) ![Confusion matrices]({ModelArtifacts.ConfusionPlot})");
        return text.ToString();
    }

    private static void AppendMetrics(StringBuilder text, IReadOnlyDictionary<string, EvaluationMetrics> bySplit, IReadOnlyDictionary<string, Models.Monitoring.AurocInterval> aurocIntervals,
        IReadOnlyDictionary<string, IReadOnlyList<AlertingAt>> alerting, string calibrationSplit)
    {
        text.AppendLine("## Metrics");
        text.AppendLine();
        text.AppendLine("| split | rows | positives | AUROC | AUROC 95 % CI (DeLong) | AUPRC | Brier | ECE (10 bins) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var (split, m) in bySplit)
        {
            var interval = aurocIntervals.TryGetValue(split, out var i) ? string.Create(CultureInfo.InvariantCulture, $"{i.Lower:0.0000}-{i.Upper:0.0000}") : "n/a";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {split} | {m.Rows:N0} | {m.Positives:N0} | {m.Auroc:0.0000} | {interval} | {m.Auprc:0.0000} | {m.Brier:0.0000} | {Models.Monitoring.BinaryMetrics.ExpectedCalibrationError(m.Calibration):0.0000} |");
        }

        text.AppendLine();
        text.AppendLine("Confusion matrices at the serving thresholds (probability >= threshold is positive):");
        text.AppendLine();
        text.AppendLine("| split | threshold | TP | FP | TN | FN | precision | recall |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var (split, m) in bySplit)
        {
            foreach (var c in m.Confusion)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {split} | {c.Threshold:0.00} | {c.TruePositives} | {c.FalsePositives} | {c.TrueNegatives} | {c.FalseNegatives} | {c.Precision:0.000} | {c.Recall:0.000} |");
            }
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Calibration on {calibrationSplit} (mean predicted vs observed rate per probability bin):");
        text.AppendLine();
        text.AppendLine("| bin | rows | mean predicted | observed |");
        text.AppendLine("|---|---|---|---|");
        if (bySplit.TryGetValue("test", out var test))
        {
            foreach (var bin in test.Calibration.Where(b => b.Count > 0))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {bin.Lower:0.0}-{bin.Upper:0.0} | {bin.Count:N0} | {bin.MeanPredicted:0.000} | {bin.ObservedRate:0.000} |");
            }
        }


        text.AppendLine();
        text.AppendLine("Alerting (an alert is an hour whose probability is at or above the threshold). Utility: the PhysioNet/CinC Challenge 2019 score "
            + "(1 = alerting exactly 12 h before to 3 h after onset, 0 = never alerting). Burden: alerting hours per patient-day scored. "
            + string.Create(CultureInfo.InvariantCulture, $"Flagged: patients with an onset and an alert in the {AlertingAt.FlagWindowHours:0} h before it; lead: hours from the first such alert to onset:"));
        text.AppendLine();
        text.AppendLine("| split | threshold | utility | alerts per patient-day | onsets flagged | median lead (h) |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var (split, list) in alerting)
        {
            foreach (var a in list)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {split} | {a.Name} ({a.Threshold:0.000}) | {Figure(a.Utility, "0.000", "n/a (no onset in reach)")} | {Figure(a.AlertsPerPatientDay, "0.00", "n/a")} | {a.OnsetsFlagged:N0} of {a.Onsets:N0} | {Figure(a.MedianLeadHours, "0.0", "n/a")} |");
            }
        }
    }

    private static string Figure(double value, string format, string missing) =>
        double.IsNaN(value) ? missing : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Share(long part, long whole) => whole == 0 ? "n/a" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}
