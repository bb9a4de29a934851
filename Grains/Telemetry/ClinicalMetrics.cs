using System.Diagnostics;
using System.Diagnostics.Metrics;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Grains.Telemetry;

/// <summary>
/// The platform's own instruments, all on the meter <see cref="MeterName"/>, named by OpenTelemetry's conventions
/// (Prometheus sees <c>clinical_ingest_messages_total</c>, <c>clinical_journal_commit_duration_seconds</c>, …; the list
/// is in docs/observability.md). Every label has a small, fixed set of values: payload type, site code, rule, outcome,
/// job, model version, risk level. No patient id, message id or value is ever a label (cardinality and privacy).
/// <para>
/// Queue depths and backlogs are observed, not counted: their owners register how to read them
/// (<see cref="ObserveJournalQueue"/> and the like) and the exporter reads them at each scrape.
/// </para>
/// </summary>
public sealed class ClinicalMetrics
{
    public const string MeterName = "ClinicalTrials";

    private static readonly double[] CommitSeconds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
    private static readonly long[] CommitEntries = [1, 10, 100, 500, 1000, 2000, 5000, 10_000, 20_000];
    private static readonly double[] FeatureSeconds = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1];
    private static readonly double[] PredictionSeconds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    private static readonly double[] JobSeconds = [0.1, 1, 5, 15, 60, 300, 900, 3600];

    private readonly Counter<long> _messages;
    private readonly Counter<long> _violations;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<long> _commitSize;
    private readonly UpDownCounter<long> _patientsActive;
    private readonly Histogram<double> _featureUpdate;
    private readonly Counter<long> _onlineStoreErrors;
    private readonly Counter<long> _jobRuns;
    private readonly Counter<long> _jobRows;
    private readonly Histogram<double> _jobDuration;
    private readonly Histogram<double> _predictionDuration;

    private Func<long>? _journalQueue;
    private Func<long>? _onlineStoreBacklog;
    private Func<long>? _predictionLogQueue;
    private Func<string?>? _servedModel;
    private volatile MonitoringReport? _monitoring;

    public ClinicalMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _messages = meter.CreateCounter<long>("clinical.ingest.messages", "{message}",
            "Messages received, by outcome (accepted, duplicate, rejected, unavailable), payload type and site.");
        _violations = meter.CreateCounter<long>("clinical.ingest.violations", "{violation}",
            "Rule violations of rejected messages, by rule, payload type and site.");
        _commitDuration = meter.CreateHistogram<double>("clinical.journal.commit.duration", "s",
            "Duration of one journal commit (write, then fsync or COMMIT), by outcome.", advice: new() { HistogramBucketBoundaries = CommitSeconds });
        _commitSize = meter.CreateHistogram<long>("clinical.journal.commit.size", "{entry}",
            "Entries made durable by one journal commit.", advice: new() { HistogramBucketBoundaries = CommitEntries });
        meter.CreateObservableGauge("clinical.journal.queue.depth", () => Read(_journalQueue), "{entry}",
            "Entries waiting for the journal's next commit.");
        _patientsActive = meter.CreateUpDownCounter<long>("clinical.patients.active", "{grain}",
            "Patient grains active on this silo.");
        _featureUpdate = meter.CreateHistogram<double>("clinical.features.update.duration", "s",
            "Time to apply a patient's newly stored messages to its state and feature vector.", advice: new() { HistogramBucketBoundaries = FeatureSeconds });
        meter.CreateObservableGauge("clinical.online_store.backlog", () => Read(_onlineStoreBacklog), "{patient}",
            "Patients whose latest feature vector waits to be written to Redis.");
        _onlineStoreErrors = meter.CreateCounter<long>("clinical.online_store.errors", "{error}",
            "Failed writes of a batch of feature vectors to Redis.");
        _jobRuns = meter.CreateCounter<long>("clinical.lake.job.runs", "{run}", "Pipeline job runs, by job and status.");
        _jobRows = meter.CreateCounter<long>("clinical.lake.job.rows", "{row}", "Rows read (direction=in) and written (out) by pipeline jobs.");
        _jobDuration = meter.CreateHistogram<double>("clinical.lake.job.duration", "s", "Duration of one pipeline job run, by job and status.",
            advice: new() { HistogramBucketBoundaries = JobSeconds });
        _predictionDuration = meter.CreateHistogram<double>("clinical.prediction.duration", "s",
            "Time from request to answer of each prediction, by model version and risk level (its count is the number of predictions).",
            advice: new() { HistogramBucketBoundaries = PredictionSeconds });
        meter.CreateObservableGauge("clinical.prediction_log.queue.depth", () => Read(_predictionLogQueue), "{prediction}",
            "Predictions answered and waiting to be written to the prediction log.");
        meter.CreateObservableGauge("clinical.model.served", ServedModel, "{model}",
            "1 with the version of the production model this silo serves; no point while it serves none.");
        meter.CreateObservableGauge("clinical.model.auroc", () => Monitoring(m => m.Performance.Auroc), null,
            "Rolling-window AUROC of each model version at the latest monitoring run on this silo; no point without a verdict.");
        meter.CreateObservableGauge("clinical.model.labelled_predictions", () => Monitoring(m => m.Performance.Labelled), "{prediction}",
            "Labelled predictions in the window of the latest monitoring run, per model version.");
        meter.CreateObservableGauge("clinical.model.score_psi", () => Monitoring(m => m.Drift?.Score.Psi), null,
            "PSI of the served scores against the training scores, per model version, at the latest monitoring run.");
        meter.CreateObservableGauge("clinical.model.feature_psi_max", () => Monitoring(m => m.Drift?.Features.Max(f => f.Psi)), null,
            "The largest feature PSI against the training reference, per model version, at the latest monitoring run.");
        meter.CreateObservableGauge("clinical.model.monitoring_alerts", MonitoringAlerts, "{alert}",
            "Alerts raised by the latest monitoring run, per model version and kind (auroc, score_psi, feature_psi).");
    }

    /// <summary>A monitoring run ended on this silo: its figures become the model gauges.</summary>
    public void Monitored(MonitoringReport report) => _monitoring = report;

    public void ObserveJournalQueue(Func<long> depth) => _journalQueue = depth;

    public void ObserveOnlineStoreBacklog(Func<long> patients) => _onlineStoreBacklog = patients;

    public void ObservePredictionLogQueue(Func<long> predictions) => _predictionLogQueue = predictions;

    public void ObserveServedModel(Func<string?> version) => _servedModel = version;

    /// <summary>One received message's outcome; a rejected one's violations are counted by rule.</summary>
    public void MessageReceived(IngestStatus status, ParseResult parsed)
    {
        var type = parsed.PayloadType?.WireName() ?? "unknown";
        var site = parsed.SiteId ?? "unknown";
        _messages.Add(1, new TagList { { "outcome", Outcome(status) }, { "payload_type", type }, { "site", site } });
        if (status == IngestStatus.Rejected)
        {
            foreach (var violation in parsed.Violations)
            {
                _violations.Add(1, new TagList { { "rule", violation.Rule }, { "payload_type", type }, { "site", site } });
            }
        }
    }

    public void JournalCommitted(TimeSpan duration, int entries, bool succeeded)
    {
        _commitDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", succeeded ? "committed" : "failed"));
        if (succeeded)
        {
            _commitSize.Record(entries);
        }
    }

    public void PatientActivated() => _patientsActive.Add(1);

    public void PatientDeactivated() => _patientsActive.Add(-1);

    public void FeaturesUpdated(TimeSpan duration) => _featureUpdate.Record(duration.TotalSeconds);

    public void OnlineStoreWriteFailed() => _onlineStoreErrors.Add(1);

    public void JobRan(string job, string status, long rowsIn, long rowsOut, TimeSpan? duration)
    {
        _jobRuns.Add(1, new TagList { { "job", job }, { "status", status } });
        _jobRows.Add(rowsIn, new TagList { { "job", job }, { "direction", "in" } });
        _jobRows.Add(rowsOut, new TagList { { "job", job }, { "direction", "out" } });
        if (duration is { } elapsed)
        {
            _jobDuration.Record(elapsed.TotalSeconds, new TagList { { "job", job }, { "status", status } });
        }
    }

    /// <summary>One prediction answered (and queued for the log); its patient is not recorded.</summary>
    public void Predicted(PredictionRecord prediction) => _predictionDuration.Record(prediction.LatencyMs / 1000,
        new TagList { { "model_version", prediction.ModelVersion }, { "risk_level", prediction.RiskLevel } });

    private static string Outcome(IngestStatus status) => status switch
    {
        IngestStatus.Accepted => "accepted",
        IngestStatus.Duplicate => "duplicate",
        IngestStatus.Rejected => "rejected",
        _ => "unavailable",
    };

    private static IEnumerable<Measurement<long>> Read(Func<long>? source) =>
        source is null ? [] : [new Measurement<long>(source())];

    private IEnumerable<Measurement<double>> Monitoring(Func<ModelWindowReport, double?> value) =>
        _monitoring?.Models.Select(m => (m.ModelVersion, Value: value(m))).Where(m => m.Value is not null)
            .Select(m => new Measurement<double>(m.Value!.Value, new KeyValuePair<string, object?>("model_version", m.ModelVersion))) ?? [];

    private IEnumerable<Measurement<long>> MonitoringAlerts() =>
        _monitoring?.Alerts.GroupBy(a => (a.ModelVersion, a.Kind)).Select(g => new Measurement<long>(g.Count(),
            new KeyValuePair<string, object?>("model_version", g.Key.ModelVersion), new KeyValuePair<string, object?>("kind", g.Key.Kind))) ?? [];

    private IEnumerable<Measurement<long>> ServedModel() =>
        _servedModel?.Invoke() is { } version ? [new Measurement<long>(1, new KeyValuePair<string, object?>("model_version", version))] : [];
}
