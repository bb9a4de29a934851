using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// One model version's predictions over a monitoring window, streamed in one at a time: the drift accumulators hold
/// fixed-size state, and only a labelled prediction keeps its score and label (five bytes), so memory grows with the
/// labels, not with the log or its features.
/// </summary>
public sealed class ModelWindow
{
    private readonly string _modelVersion;
    private readonly Func<string, string?> _siteOf;
    private readonly DriftAccumulator? _features;
    private readonly DriftAccumulator? _score;
    private readonly float[] _row;
    private readonly List<float> _scores = [];
    private readonly List<bool> _labels = [];
    private readonly Dictionary<string, (List<float> Scores, List<bool> Labels)> _sites = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, (long Predictions, long Labelled, long Positives)> _levels = new(StringComparer.Ordinal);
    private long _predictions;

    /// <param name="modelVersion">The version whose predictions are added.</param>
    /// <param name="reference">Its training reference; null when its metadata has none (no drift then).</param>
    /// <param name="siteOf">The reporting site of a patient, when known.</param>
    public ModelWindow(string modelVersion, TrainingReference? reference, Func<string, string?> siteOf)
    {
        _modelVersion = modelVersion;
        _siteOf = siteOf;
        if (reference is not null)
        {
            _features = new DriftAccumulator(reference.Features);
            _score = new DriftAccumulator([reference.Score]);
        }

        _row = new float[reference?.Features.Count ?? 0];
    }

    /// <summary>Predictions whose logged features did not have the reference's width, left out of feature drift.</summary>
    public long MisshapenRows { get; private set; }

    public void Add(MonitoredPrediction prediction)
    {
        _predictions++;
        var labelled = prediction.Label is OutcomeLabel.Positive or OutcomeLabel.Negative;
        var positive = prediction.Label == OutcomeLabel.Positive;
        var level = _levels.GetValueOrDefault(prediction.RiskLevel);
        _levels[prediction.RiskLevel] = (level.Predictions + 1, level.Labelled + (labelled ? 1 : 0), level.Positives + (positive ? 1 : 0));
        _score?.Add([(float)prediction.PredictionScore]);
        if (_features is not null)
        {
            if (prediction.Features.Length == _row.Length)
            {
                for (var i = 0; i < _row.Length; i++)
                {
                    _row[i] = (float)prediction.Features[i];
                }

                _features.Add(_row);
            }
            else
            {
                MisshapenRows++;
            }
        }

        if (labelled)
        {
            _scores.Add((float)prediction.PredictionScore);
            _labels.Add(positive);
            if (_siteOf(prediction.PatientId) is { } site)
            {
                if (!_sites.TryGetValue(site, out var lists))
                {
                    _sites[site] = lists = ([], []);
                }

                lists.Scores.Add((float)prediction.PredictionScore);
                lists.Labels.Add(positive);
            }
        }
    }

    /// <summary>The <paramref name="count"/> most drifted features' histograms against their reference; none without a reference.</summary>
    public IReadOnlyList<DriftHistogram> TopFeatureHistograms(int count) => _features?.TopHistograms(count) ?? [];

    public ModelWindowReport Report(MonitoringPolicy policy) => new(
        _modelVersion,
        _predictions,
        policy.Performance(_scores, _labels),
        [.. _levels.Select(l => new RiskLevelReport(l.Key, l.Value.Predictions, (double)l.Value.Predictions / _predictions,
            l.Value.Labelled, l.Value.Positives, l.Value.Labelled == 0 ? null : (double)l.Value.Positives / l.Value.Labelled))],
        _features is null || _score is null ? null : new DriftReport(
            VariableDriftReport.From(_score.Results()[0]), [.. _features.Results().Select(VariableDriftReport.From)]),
        [.. _sites.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new SitePerformance(s.Key, policy.Performance(s.Value.Scores, s.Value.Labels)))]);
}
