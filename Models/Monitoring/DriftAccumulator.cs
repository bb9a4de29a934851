namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// Compares served values with their training references, one row at a time into fixed-size state: per variable, a
/// count per reference bin and a count of missing values. Memory does not grow with the rows, so a prediction log of any
/// length streams through it.
/// </summary>
/// <remarks>
/// PSI is computed on the reference's own bins, as usual. The KS statistic needs both distribution functions, but the
/// reference keeps only its bins, so both are compared at the reference's edges: D = max over edges of
/// |F_reference(edge) - F_observed(edge)|, over non-missing values. This never exceeds the exact statistic against the
/// training sample and falls short of it by less than the largest bin's share on either side (between two edges each
/// function moves by its bin's share only); with <see cref="ReferenceDistribution.DefaultBins"/> quantile bins that is
/// about 0.05 of the reference. The p-value takes the reference's and the served non-missing counts as the sample sizes.
/// </remarks>
public sealed class DriftAccumulator
{
    private readonly IReadOnlyList<ReferenceDistribution> _references;
    private readonly double[][] _edges;
    private readonly long[][] _counts;
    private readonly long[] _missing;

    public DriftAccumulator(IReadOnlyList<ReferenceDistribution> references)
    {
        _references = references;
        _edges = [.. references.Select(r => r.Edges.ToArray())];
        _counts = [.. references.Select(r => new long[r.Counts.Count])];
        _missing = new long[references.Count];
    }

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds one row: one value per reference, in the references' order; NaN is a missing value.</summary>
    public void Add(ReadOnlySpan<float> row)
    {
        if (row.Length != _edges.Length)
        {
            throw new ArgumentException($"A row must hold {_edges.Length} values, one per reference; it holds {row.Length}.", nameof(row));
        }

        for (var f = 0; f < row.Length; f++)
        {
            var value = row[f];
            if (float.IsNaN(value))
            {
                _missing[f]++;
            }
            else
            {
                _counts[f][ReferenceDistribution.Bin(_edges[f], value)]++;
            }
        }

        Rows++;
    }

    /// <summary>Drift per variable, the largest PSI first (ties by name).</summary>
    public IReadOnlyList<VariableDrift> Results() => [.. Ranked().Select(r => r.Drift)];

    /// <summary>The served counts beside the reference's for the <paramref name="count"/> variables of largest PSI, in <see cref="Results"/>' order.</summary>
    public IReadOnlyList<DriftHistogram> TopHistograms(int count) =>
        [.. Ranked().Take(count).Select(r => new DriftHistogram(r.Drift, _references[r.Index], [.. _counts[r.Index]], _missing[r.Index]))];

    private IEnumerable<(VariableDrift Drift, int Index)> Ranked() =>
        _references.Select((reference, f) => (Drift: Drift(reference, _counts[f], _missing[f]), Index: f))
            .OrderByDescending(r => double.IsNaN(r.Drift.Psi) ? double.NegativeInfinity : r.Drift.Psi)
            .ThenBy(r => r.Drift.Name, StringComparer.Ordinal);

    private static VariableDrift Drift(ReferenceDistribution reference, long[] counts, long missing)
    {
        var observed = counts.Sum();
        var ks = BinnedKs(reference, counts, observed);
        var total = observed + missing;
        return new VariableDrift(
            reference.Name,
            total,
            PopulationStability.Index(reference.Counts, reference.Missing, counts, missing),
            ks,
            KolmogorovSmirnov.PValue(ks, reference.NonMissing, observed),
            total == 0 ? double.NaN : (double)missing / total,
            reference.MissingShare);
    }

    private static double BinnedKs(ReferenceDistribution reference, long[] counts, long observed)
    {
        var referenceTotal = reference.NonMissing;
        if (referenceTotal == 0 || observed == 0)
        {
            return double.NaN;
        }

        double largest = 0;
        long referenceBelow = 0, observedBelow = 0;
        for (var bin = 0; bin < counts.Length - 1; bin++)
        {
            referenceBelow += reference.Counts[bin];
            observedBelow += counts[bin];
            largest = Math.Max(largest, Math.Abs((double)referenceBelow / referenceTotal - (double)observedBelow / observed));
        }

        return largest;
    }
}

/// <summary>How far one variable's served values have moved from its training reference.</summary>
/// <param name="Name">The feature, or <see cref="ReferenceDistribution.ScoreName"/>.</param>
/// <param name="Rows">Served rows seen (missing included).</param>
/// <param name="Psi">Population stability index over the reference's bins and the missing share; NaN without rows.</param>
/// <param name="Ks">Kolmogorov-Smirnov statistic at the reference's edges (see <see cref="DriftAccumulator"/>); NaN when a side has no values.</param>
/// <param name="KsPValue">Its asymptotic p-value.</param>
/// <param name="MissingShare">Share of served rows where the value was missing.</param>
/// <param name="ReferenceMissingShare">The same share in the training data.</param>
public sealed record VariableDrift(string Name, long Rows, double Psi, double Ks, double KsPValue, double MissingShare, double ReferenceMissingShare);

/// <summary>One variable's served values binned at its reference's edges, for drawing beside the reference.</summary>
/// <param name="Drift">Its drift.</param>
/// <param name="Reference">The training reference (edges, rows per bin, missing rows).</param>
/// <param name="Counts">Served non-missing values per reference bin.</param>
/// <param name="Missing">Served missing values.</param>
public sealed record DriftHistogram(VariableDrift Drift, ReferenceDistribution Reference, IReadOnlyList<long> Counts, long Missing);
