using System.Text.Json;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// One monitoring run: the labelling pass, then per model version that served in the window its performance on the
/// labelled predictions and its drift against the training reference, and the alerts the policy raised. A value that
/// cannot be computed (no labels, no reference) is null, never NaN, so the report is plain JSON.
/// </summary>
/// <param name="RunId">The run.</param>
/// <param name="StartedAt">When it started; the window ends here.</param>
/// <param name="WindowFrom">The window's start (inclusive).</param>
/// <param name="WindowTo">The window's end (exclusive).</param>
/// <param name="Labelling">What the labelling pass did.</param>
/// <param name="Models">Each model version that made predictions in the window.</param>
/// <param name="Alerts">What the policy raised.</param>
/// <param name="Delivery">How the alerts reached the configured webhook; null when nothing was posted.</param>
/// <param name="Retraining">What the alerts did about retraining; null when none asked for one.</param>
public sealed record MonitoringReport(
    string RunId,
    DateTimeOffset StartedAt,
    DateTimeOffset WindowFrom,
    DateTimeOffset WindowTo,
    LabellingSummary Labelling,
    IReadOnlyList<ModelWindowReport> Models,
    IReadOnlyList<MonitoringAlert> Alerts,
    AlertDelivery? Delivery = null,
    AlertRetraining? Retraining = null)
{
    /// <summary>The stored form: the model files' JSON (snake_case).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ModelJson.Options);

    public static MonitoringReport FromJson(string json) =>
        JsonSerializer.Deserialize<MonitoringReport>(json, ModelJson.Options) ?? throw new InvalidDataException("The monitoring report is empty.");
}

/// <summary>What a labelling pass did over the predictions of its look-back.</summary>
/// <param name="Examined">Predictions looked at.</param>
/// <param name="Labelled">Predictions whose label was given or changed in this pass.</param>
/// <param name="Relabelled">Of those, predictions that had another label before (a late report).</param>
/// <param name="Pending">Predictions still waiting for their horizon and grace period to pass.</param>
/// <param name="EventsRead">Adverse events read from silver.</param>
public sealed record LabellingSummary(long Examined, long Labelled, long Relabelled, long Pending, long EventsRead);

/// <summary>One model version over the window.</summary>
/// <param name="ModelVersion">The version that made the predictions.</param>
/// <param name="Predictions">Predictions it made in the window.</param>
/// <param name="Performance">Its performance on the labelled ones, or why there is no verdict.</param>
/// <param name="RiskLevels">Per risk level: how many predictions, their share (the alert rate) and the observed event rate.</param>
/// <param name="Drift">Score and feature drift against the training reference; null when the metadata has no reference.</param>
/// <param name="Sites">The same performance per reporting site of the patients.</param>
public sealed record ModelWindowReport(
    string ModelVersion,
    long Predictions,
    PerformanceReport Performance,
    IReadOnlyList<RiskLevelReport> RiskLevels,
    DriftReport? Drift,
    IReadOnlyList<SitePerformance> Sites);

/// <summary>
/// Performance on labelled predictions. <see cref="Verdict"/> is <c>evaluated</c>, or <c>insufficient_labels</c> with
/// <see cref="Reason"/> when there are too few labelled predictions (or too few of a class) to read anything into it.
/// </summary>
public sealed record PerformanceReport(
    string Verdict,
    string? Reason,
    long Labelled,
    long Positives,
    double? Auroc,
    double? AurocLower,
    double? AurocUpper,
    double? Auprc,
    double? Brier,
    double? ExpectedCalibrationError,
    IReadOnlyList<ReliabilityBin> Reliability)
{
    public const string Evaluated = "evaluated";
    public const string InsufficientLabels = "insufficient_labels";
}

/// <summary>One non-empty bin of the reliability table: mean predicted probability against observed event rate.</summary>
public sealed record ReliabilityBin(double Lower, double Upper, long Count, double MeanPredicted, double ObservedRate);

/// <summary>Predictions at one risk level.</summary>
public sealed record RiskLevelReport(string RiskLevel, long Predictions, double Share, long Labelled, long Positives, double? ObservedRate);

/// <summary>Performance of the patients of one site.</summary>
public sealed record SitePerformance(string SiteId, PerformanceReport Performance);

/// <summary>The score's drift, and every feature's, largest PSI first.</summary>
public sealed record DriftReport(VariableDriftReport Score, IReadOnlyList<VariableDriftReport> Features);

/// <summary><see cref="VariableDrift"/> with null for what could not be computed.</summary>
public sealed record VariableDriftReport(string Name, long Rows, double? Psi, double? Ks, double? KsPValue, double? MissingShare, double? ReferenceMissingShare)
{
    public static VariableDriftReport From(VariableDrift d) =>
        new(d.Name, d.Rows, Finite(d.Psi), Finite(d.Ks), Finite(d.KsPValue), Finite(d.MissingShare), Finite(d.ReferenceMissingShare));

    internal static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>A rule of the alert policy broken by one model version.</summary>
/// <param name="Kind"><c>auroc</c>, <c>score_psi</c> or <c>feature_psi</c>.</param>
/// <param name="ModelVersion">The version.</param>
/// <param name="Subject">The feature, for <c>feature_psi</c>; else null.</param>
/// <param name="Value">The measured value.</param>
/// <param name="Threshold">The policy's threshold.</param>
/// <param name="Message">One line for people.</param>
public sealed record MonitoringAlert(string Kind, string ModelVersion, string? Subject, double Value, double Threshold, string Message)
{
    public const string Auroc = "auroc";
    public const string ScorePsi = "score_psi";
    public const string FeaturePsi = "feature_psi";

    /// <summary>Every kind the policy raises.</summary>
    public static readonly IReadOnlyList<string> Kinds = [Auroc, ScorePsi, FeaturePsi];
}

/// <summary>When a window's performance is read, and when the policy raises an alert.</summary>
/// <param name="MinLabelled">Fewest labelled predictions for a performance verdict.</param>
/// <param name="MinPerClass">Fewest positives and fewest negatives among them.</param>
/// <param name="MinAuroc">An AUROC below this (with a verdict) raises an alert.</param>
/// <param name="MaxFeaturePsi">A feature PSI above this raises an alert.</param>
/// <param name="MaxScorePsi">A score PSI above this raises an alert.</param>
public sealed record MonitoringPolicy(int MinLabelled, int MinPerClass, double MinAuroc, double MaxFeaturePsi, double MaxScorePsi)
{
    public IReadOnlyList<MonitoringAlert> Alerts(ModelWindowReport model)
    {
        var alerts = new List<MonitoringAlert>();
        if (model.Performance is { Verdict: PerformanceReport.Evaluated, Auroc: { } auroc } && auroc < MinAuroc)
        {
            alerts.Add(new(MonitoringAlert.Auroc, model.ModelVersion, null, auroc, MinAuroc,
                $"AUROC {auroc:0.000} over {model.Performance.Labelled} labelled predictions is below {MinAuroc:0.00}."));
        }

        if (model.Drift?.Score.Psi is { } scorePsi && scorePsi > MaxScorePsi)
        {
            alerts.Add(new(MonitoringAlert.ScorePsi, model.ModelVersion, null, scorePsi, MaxScorePsi,
                $"The score distribution's PSI {scorePsi:0.000} is above {MaxScorePsi:0.00}."));
        }

        foreach (var feature in model.Drift?.Features ?? [])
        {
            if (feature.Psi is { } psi && psi > MaxFeaturePsi)
            {
                alerts.Add(new(MonitoringAlert.FeaturePsi, model.ModelVersion, feature.Name, psi, MaxFeaturePsi,
                    $"Feature {feature.Name} has PSI {psi:0.000}, above {MaxFeaturePsi:0.00}."));
            }
        }

        return alerts;
    }

    /// <summary>The performance of labelled predictions, or why there is none.</summary>
    public PerformanceReport Performance(IReadOnlyList<float> scores, IReadOnlyList<bool> labels)
    {
        long positives = labels.Count(l => l), negatives = labels.Count - positives;
        if (labels.Count < MinLabelled || positives < MinPerClass || negatives < MinPerClass)
        {
            return new PerformanceReport(PerformanceReport.InsufficientLabels,
                $"{labels.Count} labelled predictions ({positives} positive, {negatives} negative); a verdict needs at least {MinLabelled}, with {MinPerClass} of each class.",
                labels.Count, positives, null, null, null, null, null, null, []);
        }

        var auroc = BinaryMetrics.AurocWithInterval(scores, labels);
        var calibration = BinaryMetrics.Calibration(scores, labels, bins: 10);
        return new PerformanceReport(PerformanceReport.Evaluated, null, labels.Count, positives,
            auroc.Estimate, VariableDriftReport.Finite(auroc.Lower), VariableDriftReport.Finite(auroc.Upper),
            VariableDriftReport.Finite(BinaryMetrics.AveragePrecision(scores, labels)), BinaryMetrics.Brier(scores, labels),
            BinaryMetrics.ExpectedCalibrationError(calibration),
            [.. calibration.Where(b => b.Count > 0).Select(b => new ReliabilityBin(b.Lower, b.Upper, b.Count, b.MeanPredicted, b.ObservedRate))]);
    }
}

/// <summary>The delivery of a run's alerts to the webhook.</summary>
/// <param name="Target">The webhook's scheme, host and path (never its query, which may hold a token).</param>
/// <param name="Delivered">Whether an attempt was answered 2xx.</param>
/// <param name="Attempts">Attempts made.</param>
/// <param name="LastStatus">The HTTP status of the last answer, if one came.</param>
/// <param name="Error">Why the last attempt failed, when it did.</param>
public sealed record AlertDelivery(string Target, bool Delivered, int Attempts, int? LastStatus, string? Error);

/// <summary>What a run's alerts of the production model did about retraining.</summary>
/// <param name="Outcome"><see cref="Started"/>, or <see cref="SkippedByCooldown"/> when the last retraining started too recently.</param>
/// <param name="Trigger">The alerts that asked for it, as the retraining's trigger names them.</param>
/// <param name="Detail">For a skip: when the last retraining started and when alerts may start one again.</param>
public sealed record AlertRetraining(string Outcome, string Trigger, string? Detail)
{
    public const string Started = "started";
    public const string SkippedByCooldown = "skipped_cooldown";
}
