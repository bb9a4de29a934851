namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// One variable's distribution in the training data, kept in the model's metadata so that monitoring can compare what
/// is served against what the model learnt from: bins cut at the sample's quantiles, the rows per bin, and the missing
/// (NaN) rows apart. Bin <c>i</c> holds the values in (<c>Edges[i-1]</c>, <c>Edges[i]</c>]; the first bin is open
/// below and the last open above, so every served value has a bin.
/// </summary>
/// <param name="Name">The feature's name, or <see cref="ScoreName"/> for the model's output.</param>
/// <param name="Edges">Inner cut points, strictly ascending and finite; <c>Counts</c> has one more entry.</param>
/// <param name="Counts">Non-missing rows per bin.</param>
/// <param name="Missing">Rows where the value was missing.</param>
public sealed record ReferenceDistribution(string Name, IReadOnlyList<double> Edges, IReadOnlyList<long> Counts, long Missing)
{
    /// <summary>The name of the score distribution's reference.</summary>
    public const string ScoreName = "score";

    /// <summary>Twenty bins: each holds 5 % of the training rows, which bounds the KS approximation's error (see <see cref="DriftAccumulator"/>).</summary>
    public const int DefaultBins = 20;

    public long NonMissing => Counts.Sum();

    public long Total => NonMissing + Missing;

    public double MissingShare => Total == 0 ? double.NaN : (double)Missing / Total;

    /// <summary>The bin of a non-missing value: the first whose upper edge is at or above it.</summary>
    public static int Bin(double[] edges, double value)
    {
        var index = Array.BinarySearch(edges, value);
        return index >= 0 ? index : ~index;
    }

    /// <summary>
    /// Cuts a sample at its <paramref name="bins"/>-quantiles. Repeated values (a binary flag, a count) give fewer bins:
    /// an edge is kept once, and no edge is placed at the maximum, so no bin is empty by construction.
    /// </summary>
    public static ReferenceDistribution FromSample(string name, IEnumerable<float> values, int bins = DefaultBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var present = new List<double>();
        long missing = 0;
        foreach (var value in values)
        {
            if (float.IsNaN(value))
            {
                missing++;
            }
            else
            {
                present.Add(value);
            }
        }

        present.Sort();
        var edges = new List<double>();
        for (var q = 1; q < bins && present.Count > 0; q++)
        {
            // The smallest value with at least q/bins of the sample at or below it.
            var edge = present[(int)Math.Ceiling((double)q * present.Count / bins) - 1];
            if (edge < present[^1] && (edges.Count == 0 || edge > edges[^1]))
            {
                edges.Add(edge);
            }
        }

        var edgeArray = edges.ToArray();
        var counts = new long[edgeArray.Length + 1];
        foreach (var value in present)
        {
            counts[Bin(edgeArray, value)]++;
        }

        return new ReferenceDistribution(name, edgeArray, counts, missing);
    }

    /// <summary>Null when the distribution is well formed; otherwise the broken rule.</summary>
    public string? Problem()
    {
        if (Edges.Any(e => !double.IsFinite(e)) || Edges.Zip(Edges.Skip(1), (a, b) => a < b).Any(ascending => !ascending))
        {
            return $"the reference of '{Name}' must have finite, strictly ascending edges.";
        }

        if (Counts.Count != Edges.Count + 1 || Counts.Any(c => c < 0) || Missing < 0)
        {
            return $"the reference of '{Name}' must have one count more than edges, none negative.";
        }

        return null;
    }
}
