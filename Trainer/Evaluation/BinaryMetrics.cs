using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Trainer.Evaluation;

/// <summary>
/// Metrics of a probabilistic binary classifier, computed here rather than taken from ML.NET so that they are the same
/// definitions the monitoring uses and can be checked by hand.
/// </summary>
public static class BinaryMetrics
{
    public static EvaluationMetrics Evaluate(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, IReadOnlyList<double> thresholds)
    {
        if (probabilities.Count != labels.Count)
        {
            throw new ArgumentException("One label per probability.", nameof(labels));
        }

        return new EvaluationMetrics(
            labels.Count,
            labels.Count(l => l),
            Auroc(probabilities, labels),
            AveragePrecision(probabilities, labels),
            Brier(probabilities, labels),
            Calibration(probabilities, labels, bins: 10),
            [.. thresholds.Select(t => Confusion(probabilities, labels, t))]);
    }

    /// <summary>
    /// The probability that a random positive scores above a random negative, ties counting half (Mann-Whitney U over
    /// average ranks). NaN when either class is absent.
    /// </summary>
    public static double Auroc(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, probabilities.Count).OrderBy(i => probabilities[i]).ToArray();
        double positives = 0, rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probabilities[order[end + 1]] == probabilities[order[start]])
            {
                end++;
            }

            var averageRank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
            {
                if (labels[order[k]])
                {
                    positives++;
                    rankSum += averageRank;
                }
            }

            start = end + 1;
        }

        var negatives = order.Length - positives;
        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    /// <summary>
    /// Average precision: the mean over positives of the precision at the threshold that first admits them, with tied
    /// scores admitted together (the step-wise area under the precision-recall curve). NaN without positives.
    /// </summary>
    public static double AveragePrecision(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ToArray();
        var totalPositives = labels.Count(l => l);
        if (totalPositives == 0)
        {
            return double.NaN;
        }

        double truePositives = 0, seen = 0, sum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probabilities[order[end + 1]] == probabilities[order[start]])
            {
                end++;
            }

            var newPositives = 0;
            for (var k = start; k <= end; k++)
            {
                newPositives += labels[order[k]] ? 1 : 0;
            }

            truePositives += newPositives;
            seen += end - start + 1;
            sum += newPositives * (truePositives / seen);
            start = end + 1;
        }

        return sum / totalPositives;
    }

    /// <summary>Mean of (p - y)^2.</summary>
    public static double Brier(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        if (probabilities.Count == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var error = probabilities[i] - (labels[i] ? 1.0 : 0.0);
            sum += error * error;
        }

        return sum / probabilities.Count;
    }

    /// <summary>Equal-width bins over [0, 1]; a probability of exactly 1 falls in the last bin.</summary>
    public static IReadOnlyList<CalibrationBin> Calibration(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, int bins)
    {
        var counts = new long[bins];
        var sums = new double[bins];
        var positives = new long[bins];
        for (var i = 0; i < probabilities.Count; i++)
        {
            var bin = Math.Clamp((int)(probabilities[i] * bins), 0, bins - 1);
            counts[bin]++;
            sums[bin] += probabilities[i];
            positives[bin] += labels[i] ? 1 : 0;
        }

        return [.. Enumerable.Range(0, bins).Select(b => new CalibrationBin(
            (double)b / bins, (double)(b + 1) / bins, counts[b],
            counts[b] == 0 ? double.NaN : sums[b] / counts[b],
            counts[b] == 0 ? double.NaN : (double)positives[b] / counts[b]))];
    }

    /// <summary>A probability at or above <paramref name="threshold"/> is called positive, as serving does.</summary>
    public static ConfusionMatrix Confusion(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, double threshold)
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var predicted = probabilities[i] >= threshold;
            (tp, fp, tn, fn) = (predicted, labels[i]) switch
            {
                (true, true) => (tp + 1, fp, tn, fn),
                (true, false) => (tp, fp + 1, tn, fn),
                (false, false) => (tp, fp, tn + 1, fn),
                _ => (tp, fp, tn, fn + 1),
            };
        }

        return new ConfusionMatrix(threshold, tp, fp, tn, fn);
    }

    /// <summary>The ROC curve as (false positive rate, true positive rate) points from (0, 0) to (1, 1).</summary>
    public static IReadOnlyList<(double Fpr, double Tpr)> RocCurve(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ToArray();
        double positives = labels.Count(l => l), negatives = labels.Count - positives;
        var points = new List<(double, double)> { (0, 0) };
        double tp = 0, fp = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probabilities[order[end + 1]] == probabilities[order[start]])
            {
                end++;
            }

            for (var k = start; k <= end; k++)
            {
                if (labels[order[k]])
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }

            points.Add((negatives == 0 ? 0 : fp / negatives, positives == 0 ? 0 : tp / positives));
            start = end + 1;
        }

        return points;
    }
}
