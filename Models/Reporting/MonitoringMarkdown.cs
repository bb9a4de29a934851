using System.Globalization;
using System.Text;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Models.Reporting;

/// <summary>
/// A monitoring run's Markdown report: the window and the labelling, the alerts and what they did about retraining, then
/// per model version its performance with the AUROC's interval (or why there is no verdict), per site, per risk level, the
/// reliability table and the most drifted features with PSI and KS.
/// </summary>
public static class MonitoringMarkdown
{
    /// <summary>Features listed under drift, the largest PSI first (the score is listed above them).</summary>
    public const int DriftRows = 10;

    public static string Write(MonitoringReport report)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

        Line($"# Monitoring run {report.RunId}");
        text.AppendLine();
        Line($"Started {report.StartedAt:yyyy-MM-dd HH:mm:ss} UTC; window {report.WindowFrom:yyyy-MM-dd HH:mm} to {report.WindowTo:yyyy-MM-dd HH:mm} UTC.");
        var l = report.Labelling;
        Line($"Labelling: {l.Examined:N0} predictions examined, {l.Labelled:N0} labels given or changed ({l.Relabelled:N0} relabelled), {l.Pending:N0} pending; {l.EventsRead:N0} adverse events read.");
        text.AppendLine();
        text.AppendLine("## Alerts");
        text.AppendLine();
        if (report.Alerts.Count == 0)
        {
            text.AppendLine("None.");
        }

        foreach (var alert in report.Alerts)
        {
            Line($"- **{alert.Kind}** of model `{alert.ModelVersion}`: {alert.Message}");
        }

        if (report.Retraining is { } retraining)
        {
            text.AppendLine();
            Line($"Retraining ({retraining.Trigger}): {retraining.Outcome}{(retraining.Detail is { } detail ? $"; {detail}" : "")}.");
        }

        if (report.Delivery is { } delivery)
        {
            text.AppendLine();
            Line($"Webhook {delivery.Target}: {(delivery.Delivered ? "delivered" : "not delivered")} after {delivery.Attempts} attempt(s){(delivery.Error is { } error ? $" ({error})" : "")}.");
        }

        foreach (var model in report.Models)
        {
            Model(text, Line, model);
        }

        text.AppendLine();
        Line($"![AUROC over time, reliability and the most drifted features]({MonitoringDocuments.Png})");
        return text.ToString();
    }

    private static void Model(StringBuilder text, Action<FormattableString> Line, ModelWindowReport model)
    {
        text.AppendLine();
        Line($"## Model `{model.ModelVersion}`");
        text.AppendLine();
        Line($"{model.Predictions:N0} predictions in the window.");
        text.AppendLine();
        text.AppendLine("### Performance");
        text.AppendLine();
        text.AppendLine("| scope | labelled | positives | AUROC | AUROC 95 % CI (DeLong) | AUPRC | Brier | ECE (10 bins) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        Performance(Line, "all sites", model.Performance);
        foreach (var site in model.Sites)
        {
            Performance(Line, site.SiteId, site.Performance);
        }

        if (model.Performance.Reason is { } reason)
        {
            text.AppendLine();
            Line($"No verdict: {reason}");
        }

        text.AppendLine();
        text.AppendLine("| risk level | predictions | share (alert rate) | labelled | observed event rate |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var level in model.RiskLevels)
        {
            Line($"| {level.RiskLevel} | {level.Predictions:N0} | {level.Share:P1} | {level.Labelled:N0} | {Number(level.ObservedRate, "0.000")} |");
        }

        text.AppendLine();
        text.AppendLine("### Reliability");
        text.AppendLine();
        text.AppendLine("| bin | labelled | mean predicted | observed rate |");
        text.AppendLine("|---|---|---|---|");
        foreach (var bin in model.Performance.Reliability)
        {
            Line($"| {bin.Lower:0.0}-{bin.Upper:0.0} | {bin.Count:N0} | {bin.MeanPredicted:0.000} | {bin.ObservedRate:0.000} |");
        }

        text.AppendLine();
        text.AppendLine("### Drift against the training reference");
        text.AppendLine();
        if (model.Drift is not { } drift)
        {
            text.AppendLine("The model's metadata has no training reference: no drift.");
            return;
        }

        Line($"The score and the {Math.Min(DriftRows, drift.Features.Count)} of {drift.Features.Count} features with the largest PSI.");
        text.AppendLine();
        text.AppendLine("| variable | rows | PSI | KS | KS p-value | missing | missing in training |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var variable in drift.Features.Take(DriftRows).Prepend(drift.Score))
        {
            Line($"| `{variable.Name}` | {variable.Rows:N0} | {Number(variable.Psi, "0.000")} | {Number(variable.Ks, "0.000")} | {Number(variable.KsPValue, "0.0000")} | {Number(variable.MissingShare, "P1")} | {Number(variable.ReferenceMissingShare, "P1")} |");
        }
    }

    private static void Performance(Action<FormattableString> Line, string scope, PerformanceReport p) =>
        Line($"| {scope} | {p.Labelled:N0} | {p.Positives:N0} | {Number(p.Auroc, "0.0000")} | {(p is { AurocLower: { } lower, AurocUpper: { } upper } ? string.Create(CultureInfo.InvariantCulture, $"{lower:0.0000}-{upper:0.0000}") : "n/a")} | {Number(p.Auprc, "0.0000")} | {Number(p.Brier, "0.0000")} | {Number(p.ExpectedCalibrationError, "0.0000")} |");

    private static string Number(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "n/a";
}
