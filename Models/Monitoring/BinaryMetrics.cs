using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Models.Monitoring;

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
    public static double Auroc(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels) => DeLong(probabilities, labels).Auroc;

    /// <summary>
    /// AUROC with a two-sided normal confidence interval from DeLong's variance (DeLong, DeLong and Clarke-Pearson 1988),
    /// clipped to [0, 1]. DeLong rather than a bootstrap: it is exact given the sample (no seed, no resampling), costs
    /// three sorts instead of hundreds, and is what pROC and most model-risk reviews quote. Like every normal interval it
    /// is too narrow for a handful of positives; the bounds are NaN when a class has fewer than two members.
    /// </summary>
    public static AurocInterval AurocWithInterval(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, double confidence = 0.95)
    {
        if (confidence is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), "The confidence level must lie strictly between 0 and 1.");
        }

        var (auroc, variance) = DeLong(probabilities, labels);
        var halfWidth = NormalQuantile(0.5 + confidence / 2) * Math.Sqrt(variance);
        return new AurocInterval(auroc, Math.Max(0, auroc - halfWidth), Math.Min(1, auroc + halfWidth), confidence);
    }

    /// <summary>
    /// The AUROC and DeLong's variance from the placement values: for a positive, the share of negatives it beats (ties
    /// half); for a negative, the share of positives that beat it. Both come from midranks: a positive's midrank among all
    /// scores minus its midrank among the positives counts the negatives below it.
    /// </summary>
    private static (double Auroc, double Variance) DeLong(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        if (probabilities.Count != labels.Count)
        {
            throw new ArgumentException("One label per probability.", nameof(labels));
        }

        var positives = probabilities.Where((_, i) => labels[i]).ToArray();
        var negatives = probabilities.Where((_, i) => !labels[i]).ToArray();
        if (positives.Length == 0 || negatives.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        var all = Midranks([.. probabilities]);
        var amongPositives = Midranks(positives);
        var amongNegatives = Midranks(negatives);
        var positivePlacements = new double[positives.Length];
        var negativePlacements = new double[negatives.Length];
        for (int i = 0, p = 0, n = 0; i < probabilities.Count; i++)
        {
            if (labels[i])
            {
                positivePlacements[p] = (all[i] - amongPositives[p]) / negatives.Length;
                p++;
            }
            else
            {
                negativePlacements[n] = 1 - (all[i] - amongNegatives[n]) / positives.Length;
                n++;
            }
        }

        var auroc = positivePlacements.Average();
        var variance = positives.Length < 2 || negatives.Length < 2
            ? double.NaN
            : SampleVariance(positivePlacements) / positives.Length + SampleVariance(negativePlacements) / negatives.Length;
        return (auroc, variance);
    }

    /// <summary>1-based ranks, tied values sharing the average of their ranks; in the input's order.</summary>
    private static double[] Midranks(float[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            for (var k = start; k <= end; k++)
            {
                ranks[order[k]] = (start + end) / 2.0 + 1;
            }

            start = end + 1;
        }

        return ranks;
    }

    private static double SampleVariance(double[] values)
    {
        var mean = values.Average();
        return values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
    }

    /// <summary>
    /// The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9), enough for an
    /// interval's z.
    /// </summary>
    internal static double NormalQuantile(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low || p > 1 - low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p < low ? p : 1 - p));
            var tail = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
            return p < low ? tail : -tail;
        }

        var r = p - 0.5;
        var s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
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

    /// <summary>
    /// Expected calibration error of a reliability table: the gap between mean prediction and observed rate, averaged over
    /// the bins weighted by their counts (empty bins weigh nothing). NaN for an empty table.
    /// </summary>
    public static double ExpectedCalibrationError(IReadOnlyList<CalibrationBin> bins)
    {
        var total = bins.Sum(b => b.Count);
        return total == 0
            ? double.NaN
            : bins.Where(b => b.Count > 0).Sum(b => (double)b.Count / total * Math.Abs(b.MeanPredicted - b.ObservedRate));
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

    /// <summary>
    /// The precision-recall curve: one (recall, precision) point per distinct score, from the highest down, tied scores
    /// admitted together. Summing the recall steps times their precision gives <see cref="AveragePrecision"/>. Empty
    /// without positives.
    /// </summary>
    public static IReadOnlyList<(double Recall, double Precision)> PrecisionRecallCurve(IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels)
    {
        var order = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ToArray();
        double positives = labels.Count(l => l);
        var points = new List<(double, double)>();
        if (positives == 0)
        {
            return points;
        }

        double truePositives = 0, seen = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probabilities[order[end + 1]] == probabilities[order[start]])
            {
                end++;
            }

            for (var k = start; k <= end; k++)
            {
                truePositives += labels[order[k]] ? 1 : 0;
            }

            seen += end - start + 1;
            points.Add((truePositives / positives, truePositives / seen));
            start = end + 1;
        }

        return points;
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

/// <summary>An AUROC with its confidence interval (DeLong); NaN bounds when a class has fewer than two members.</summary>
public sealed record AurocInterval(double Estimate, double Lower, double Upper, double Confidence);
