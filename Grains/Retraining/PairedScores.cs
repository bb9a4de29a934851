using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Models.Scoring;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// Scores the same labelled rows with champion and challenger, in batches, keeping only the two scores and the label of
/// each row (rows are streamed in and their features dropped once scored). A row's features come in the order of
/// <c>sourceNames</c> and are handed to each model by feature name, so two models of different feature lists are scored
/// on the same facts (a feature a model has and the row lacks is missing, NaN).
/// </summary>
internal sealed class PairedScores
{
    private const int Batch = 512;

    private readonly Scorer _champion;
    private readonly Scorer _challenger;
    private readonly List<bool> _labels = [];

    public PairedScores(OnnxModel champion, OnnxModel challenger, IReadOnlyList<string> sourceNames)
    {
        var index = sourceNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        _champion = new Scorer(champion, index);
        _challenger = new Scorer(challenger, index);
    }

    public void Add(IReadOnlyList<double> features, bool label)
    {
        _labels.Add(label);
        _champion.Add(features);
        _challenger.Add(features);
    }

    public (ModelEvaluation Champion, ModelEvaluation Challenger) Evaluate() =>
        (PromotionPolicy.Evaluate(_champion.Scores(), _labels), PromotionPolicy.Evaluate(_challenger.Scores(), _labels));

    private sealed class Scorer(OnnxModel model, Dictionary<string, int> index)
    {
        private readonly int[] _map = [.. model.Metadata.FeatureNames.Select(name => index.GetValueOrDefault(name, -1))];
        private readonly List<float> _scores = [];
        private readonly List<float> _pending = [];
        private int _rows;

        public void Add(IReadOnlyList<double> features)
        {
            foreach (var source in _map)
            {
                _pending.Add(source < 0 ? float.NaN : (float)features[source]);
            }

            if (++_rows == Batch)
            {
                Flush();
            }
        }

        public List<float> Scores()
        {
            Flush();
            return _scores;
        }

        private void Flush()
        {
            if (_rows > 0)
            {
                _scores.AddRange(model.Score([.. _pending], _rows));
                _pending.Clear();
                _rows = 0;
            }
        }
    }
}
