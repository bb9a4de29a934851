using ClinicalTrials.Models.Monitoring;
using FsCheck;
using FsCheck.Fluent;

namespace ClinicalTrials.Models.Tests.Monitoring;

public sealed class DriftTests
{
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(200).WithReplay(20261202, 27);

    [Fact]
    public void Psi_sums_share_differences_times_log_ratios()
    {
        // Shares 0.5/0.3/0.2 against 0.4/0.4/0.2: (0.4 - 0.5) ln(0.4/0.5) + (0.4 - 0.3) ln(0.4/0.3) + 0
        // = 0.1 * 0.223144 + 0.1 * 0.287682 = 0.051083.
        Assert.Equal(0.051083, PopulationStability.Index([50, 30, 20], 0, [40, 40, 20], 0), 6);
    }

    [Fact]
    public void Psi_counts_missing_values_as_a_bin_and_floors_an_empty_share()
    {
        // Bins 0.5/0.5 against 0.45/0.45: 2 * 0.05 * ln(0.5/0.45) = 0.010536. Missing: reference share 0 floored to
        // 1e-4 against 0.1: (0.1 - 0.0001) * ln(1000) = 0.690085. Total 0.700621.
        Assert.Equal(0.700621, PopulationStability.Index([50, 50], 0, [45, 45], 10), 6);
        Assert.True(double.IsNaN(PopulationStability.Index([50, 50], 0, [0, 0], 0)));
    }

    [Fact]
    public void Reference_bins_cut_at_the_quantiles_and_keep_missing_apart()
    {
        // 1..10 in four bins: edges at the 3rd, 5th and 8th smallest values (ceil(q * 10 / 4)): 3, 5, 8.
        var reference = ReferenceDistribution.FromSample("x", [.. Enumerable.Range(1, 10).Select(v => (float)v), float.NaN], bins: 4);
        Assert.Equal([3.0, 5.0, 8.0], reference.Edges);
        Assert.Equal([3L, 2L, 3L, 2L], reference.Counts);
        Assert.Equal(1, reference.Missing);
        Assert.Equal(1.0 / 11, reference.MissingShare, 12);
        Assert.Null(reference.Problem());
    }

    [Fact]
    public void A_discrete_feature_gets_one_edge_per_distinct_cut_and_none_at_its_maximum()
    {
        // 0,0,0,1,1 in four bins: quantile cuts 0, 0, 1; the repeated 0 is kept once, 1 is the maximum.
        var reference = ReferenceDistribution.FromSample("flag", [0, 0, 0, 1, 1], bins: 4);
        Assert.Equal([0.0], reference.Edges);
        Assert.Equal([3L, 2L], reference.Counts);
    }

    [Fact]
    public void Ks_is_the_largest_gap_between_the_distribution_functions()
    {
        // After 2: 2/4 - 0 ; after 3: 3/4 - 1/4 ; after 4: 1 - 2/4: D = 0.5.
        Assert.Equal(0.5, KolmogorovSmirnov.Statistic([1, 2, 3, 4], [3, 4, 5, 6]), 12);
        Assert.Equal(0.0, KolmogorovSmirnov.Statistic([1, 2, 2], [2, 1, 2]), 12);
    }

    [Fact]
    public void Ks_p_value_is_the_kolmogorov_tail_on_both_sides_of_its_series_switch()
    {
        // n = m = 4: lambda = sqrt(16 / 8) * D. D = 0.5: lambda = 0.7071, Q = 2 (e^-1 - e^-4 + e^-9 - e^-16 ...) = 0.699374.
        // D = 1: lambda = 1.4142, Q = 2 (e^-4 - e^-16 + ...) = 0.036631.
        Assert.Equal(0.699374, KolmogorovSmirnov.PValue(0.5, 4, 4), 6);
        Assert.Equal(0.036631, KolmogorovSmirnov.PValue(1.0, 4, 4), 6);
        Assert.Equal(1.0, KolmogorovSmirnov.PValue(0, 100, 100));
    }

    [Fact]
    public void Ks_is_symmetric_and_zero_against_itself()
    {
        Check.One(Config, Prop.ForAll(Values().ToArbitrary(), Values().ToArbitrary(), (a, b) =>
            KolmogorovSmirnov.Statistic(a, b) == KolmogorovSmirnov.Statistic(b, a) && KolmogorovSmirnov.Statistic(a, a) == 0));
    }

    [Fact]
    public void A_sample_against_its_own_reference_has_no_drift()
    {
        Check.One(Config, Prop.ForAll(Values().ToArbitrary(), Gen.Choose(1, 25).ToArbitrary(), (values, bins) =>
        {
            var sample = values.Select(v => v < 0.5 ? float.NaN : (float)v).ToArray();
            var drift = Accumulate([ReferenceDistribution.FromSample("x", sample, bins)], sample.Select(v => new[] { v }));
            return Math.Abs(drift.Psi) < 1e-12 && (drift.Ks == 0 || double.IsNaN(drift.Ks));
        }));
    }

    [Fact]
    public void Ks_at_the_reference_edges_stays_within_one_bin_share_of_the_exact_statistic()
    {
        Check.One(Config, Prop.ForAll(Values().ToArbitrary(), Values().ToArbitrary(), Gen.Choose(1, 25).ToArbitrary(), (training, served, bins) =>
        {
            var reference = ReferenceDistribution.FromSample("x", training.Select(v => (float)v), bins);
            var binned = Accumulate([reference], served.Select(v => new[] { (float)v })).Ks;
            var exact = KolmogorovSmirnov.Statistic(training, served);
            var edges = reference.Edges.ToArray();
            var servedShares = served.GroupBy(v => ReferenceDistribution.Bin(edges, v)).Select(g => (double)g.Count() / served.Length);
            var largestShare = reference.Counts.Select(c => (double)c / training.Length).Concat(servedShares).Max();
            return binned <= exact + 1e-12 && exact <= binned + largestShare + 1e-12;
        }));
    }

    [Fact]
    public void Accumulator_reports_each_feature_with_the_largest_drift_first()
    {
        // Reference of "stable" and "shifted": 1..10 in two bins, edge 5. Served: stable 1..10 again; shifted 6..15 (all
        // above the edge), and the first row misses its value of "stable".
        float[] training = [.. Enumerable.Range(1, 10).Select(v => (float)v)];
        var references = new[] { ReferenceDistribution.FromSample("stable", training, 2), ReferenceDistribution.FromSample("shifted", training, 2) };
        var accumulator = new DriftAccumulator(references);
        for (var i = 0; i < 10; i++)
        {
            accumulator.Add([i == 0 ? float.NaN : i + 1, i + 6]);
        }

        var results = accumulator.Results();
        Assert.Equal(["shifted", "stable"], results.Select(r => r.Name));
        var shifted = results[0];
        // Shares 0.5/0.5 against 0/1 (0 floored to 1e-4; no missing on either side adds nothing):
        // (1e-4 - 0.5) ln(1e-4 / 0.5) + (1 - 0.5) ln(2) = 4.257744 + 0.346574.
        Assert.Equal(4.604318, shifted.Psi, 6);
        Assert.Equal(0.5, shifted.Ks, 12);
        Assert.Equal(10, shifted.Rows);
        var stable = results[1];
        Assert.Equal(0.1, stable.MissingShare, 12);
        // Served 2..10 and one missing: shares 0.4/0.5/0.1 against 0.5/0.5/0 (floored 1e-4):
        // -0.1 ln(0.8) + 0 + 0.0999 ln(1000) = 0.022314 + 0.690085. KS at the edge 5: |5/10 - 4/9|.
        Assert.Equal(0.712399, stable.Psi, 6);
        Assert.Equal(0.5 - 4.0 / 9, stable.Ks, 12);
        Assert.Equal(0.0, stable.ReferenceMissingShare);
        Assert.Equal(10, accumulator.Rows);
        Assert.Throws<ArgumentException>(() => accumulator.Add([1f]));
    }

    private static VariableDrift Accumulate(IReadOnlyList<ReferenceDistribution> references, IEnumerable<float[]> rows)
    {
        var accumulator = new DriftAccumulator(references);
        foreach (var row in rows)
        {
            accumulator.Add(row);
        }

        return Assert.Single(accumulator.Results());
    }

    /// <summary>Values on a coarse grid, so that ties and repeated quantiles happen.</summary>
    private static Gen<double[]> Values() =>
        from size in Gen.Choose(1, 60)
        from values in Gen.Choose(0, 40).Select(v => v / 4.0).ArrayOf(size)
        select values;
}
