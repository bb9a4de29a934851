using System.Text;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Telemetry;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Reporting;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Monitoring;

/// <summary>
/// One monitoring run, start to end: label the logged predictions of the look-back with the adverse events silver holds
/// (<see cref="OutcomeLabels"/>), then stream each model version's predictions of the window through a
/// <see cref="ModelWindow"/>, apply the alert policy and record the report, with its Markdown and PNG renderings, in the
/// tracking database. The log is read as a stream, never loaded whole. Called by <see cref="ModelMonitorGrain"/>, which
/// keeps runs from overlapping.
/// </summary>
public sealed partial class ModelMonitor(
    ITrackingStore store, ModelStore models, LakeContext lake, AlertWebhook webhook, IOptions<MonitoringOptions> options,
    ClinicalMetrics metrics, TimeProvider clock, ILogger<ModelMonitor> logger)
{
    /// <summary>Stored runs the AUROC over time is drawn from: 30 days of the default 6-hourly runs.</summary>
    private const int HistoryRuns = 120;

    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    /// <summary>
    /// Runs to the end and records the run, failed or not; returns its record. <paramref name="retrainOnAlerts"/> acts on
    /// the report's alerts before it is recorded, and says what it did (null: nothing), so the record says it too.
    /// </summary>
    public async Task<MonitoringRunRecord> RunAsync(Func<MonitoringReport, Task<AlertRetraining?>> retrainOnAlerts, CancellationToken cancellationToken = default)
    {
        var startedAt = clock.GetUtcNow();
        var runId = $"{startedAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}";
        MonitoringRunRecord record;
        IReadOnlyDictionary<string, byte[]> documents = new Dictionary<string, byte[]>();
        try
        {
            var (report, histograms) = await MeasureAsync(runId, startedAt, cancellationToken);
            report = report with { Delivery = await webhook.DeliverAsync(report, cancellationToken) };
            report = report with { Retraining = await retrainOnAlerts(report) };
            documents = await DocumentsAsync(report, histograms, cancellationToken);
            record = new MonitoringRunRecord(runId, startedAt, clock.GetUtcNow(), Succeeded, report.ToJson(), null);
            metrics.Monitored(report);
            foreach (var alert in report.Alerts)
            {
                LogAlert(logger, alert.Kind, alert.ModelVersion, alert.Message);
            }

            LogRun(logger, runId, report.Labelling.Labelled, report.Models.Count, report.Alerts.Count);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            record = new MonitoringRunRecord(runId, startedAt, clock.GetUtcNow(), Failed, null, $"{e.GetType().Name}: {e.Message}");
            LogFailed(logger, runId, e);
        }

        await store.RecordMonitoringRunAsync(record, documents, cancellationToken);
        return record;
    }

    /// <summary>
    /// The run's Markdown report and PNG figure (<see cref="MonitoringDocuments"/>); the figure's AUROC over time reads
    /// the verdicts of the last <see cref="HistoryRuns"/> stored runs.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, byte[]>> DocumentsAsync(
        MonitoringReport report, IReadOnlyDictionary<string, IReadOnlyList<DriftHistogram>> histograms, CancellationToken cancellationToken)
    {
        var earlier = (await store.ListMonitoringRunsAsync(HistoryRuns, cancellationToken))
            .Where(r => r.Report is not null && r.RunId != report.RunId).Select(r => MonitoringReport.FromJson(r.Report!));
        var history = MonitoringPlots.AurocHistory(earlier.Append(report));
        return new Dictionary<string, byte[]>
        {
            [MonitoringDocuments.Markdown] = Encoding.UTF8.GetBytes(MonitoringMarkdown.Write(report)),
            [MonitoringDocuments.Png] = MonitoringPlots.Figure(report, history, histograms, options.Value.MinAuroc),
        };
    }

    private async Task<(MonitoringReport Report, IReadOnlyDictionary<string, IReadOnlyList<DriftHistogram>> Histograms)> MeasureAsync(
        string runId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var metadata = new Dictionary<string, ModelMetadata?>(StringComparer.Ordinal);
        var labelling = await LabelAsync(now, settings, metadata, cancellationToken);
        var from = now - settings.Window;
        var sites = await SilverPatientSites.ReadAsync(lake.Storage, cancellationToken);
        var reports = new List<ModelWindowReport>();
        var histograms = new Dictionary<string, IReadOnlyList<DriftHistogram>>(StringComparer.Ordinal);
        foreach (var version in await store.ReadModelVersionsAsync(from, now, cancellationToken))
        {
            var window = new ModelWindow(version, (await MetadataAsync(version, metadata))?.Reference, patient => sites.GetValueOrDefault(patient));
            await foreach (var prediction in store.ReadWindowAsync(version, from, now, cancellationToken))
            {
                window.Add(prediction);
            }

            reports.Add(window.Report(settings.Policy));
            histograms[version] = window.TopFeatureHistograms(MonitoringPlots.TopFeatures);
        }

        return (new MonitoringReport(runId, now, from, now, labelling, reports, [.. reports.SelectMany(settings.Policy.Alerts)]), histograms);
    }

    /// <summary>Labels the predictions of the look-back with the adverse events silver holds now (<see cref="OutcomeLabels.LabelLogAsync"/>).</summary>
    private async Task<LabellingSummary> LabelAsync(
        DateTimeOffset now, MonitoringOptions settings, Dictionary<string, ModelMetadata?> metadata, CancellationToken cancellationToken)
    {
        var lookbackStart = now - settings.LabelLookback;
        var events = await SilverAdverseEvents.ReadAsync(lake.Storage, DateOnly.FromDateTime(lookbackStart.UtcDateTime), cancellationToken);
        return await OutcomeLabels.LabelLogAsync(store, events,
            async version => (await MetadataAsync(version, metadata))?.LabelOrLegacy ?? LabelDefinition.Legacy,
            lookbackStart, settings.LabelGrace, now, cancellationToken);
    }

    /// <summary>A version's metadata, read once per run; null (logged) when the model store no longer has a readable one.</summary>
    private async Task<ModelMetadata?> MetadataAsync(string version, Dictionary<string, ModelMetadata?> cache)
    {
        if (!cache.TryGetValue(version, out var metadata))
        {
            try
            {
                metadata = await models.ReadMetadataAsync(version);
            }
            catch (InvalidDataException e)
            {
                LogNoMetadata(logger, version, e.Message);
                metadata = null;
            }

            cache[version] = metadata;
        }

        return metadata;
    }

    [LoggerMessage(LogLevel.Warning, "Monitoring alert {Kind} for model {ModelVersion}: {Message}")]
    private static partial void LogAlert(ILogger logger, string kind, string modelVersion, string message);

    [LoggerMessage(LogLevel.Information, "Monitoring run {RunId}: {Labelled} labels given or changed, {Models} model versions measured, {Alerts} alerts.")]
    private static partial void LogRun(ILogger logger, string runId, long labelled, int models, int alerts);

    [LoggerMessage(LogLevel.Error, "Monitoring run {RunId} failed.")]
    private static partial void LogFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Monitoring: model {ModelVersion} has no readable metadata ({Reason}); its predictions are labelled with the legacy label and get no drift.")]
    private static partial void LogNoMetadata(ILogger logger, string modelVersion, string reason);
}
