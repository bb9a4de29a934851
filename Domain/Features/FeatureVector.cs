namespace ClinicalTrials.Domain.Features;

/// <summary>
/// A patient's features as of one clinical time: values in <see cref="FeatureCatalogue.Names"/> order, NaN where
/// a feature is missing (each feature's rule is in docs/features.md). An immutable snapshot.
/// </summary>
public sealed class FeatureVector
{
    private readonly double[] _values;

    /// <summary>Wraps <paramref name="values"/> without copying: the caller hands over the array.</summary>
    internal FeatureVector(DateTimeOffset? asOf, double[] values)
    {
        AsOf = asOf;
        _values = values;
    }

    /// <summary>The evaluation time t (whole seconds); null before the first event.</summary>
    public DateTimeOffset? AsOf { get; }

    public string Version => FeatureCatalogue.Version;

    public static IReadOnlyList<string> Names => FeatureCatalogue.Names;

    public IReadOnlyList<double> Values => _values;

    public double this[string name] => _values[FeatureCatalogue.IndexOf(name)];

    /// <summary>The values keyed by feature name (for JSON, Redis hashes and logging).</summary>
    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var byName = new Dictionary<string, double>(_values.Length, StringComparer.Ordinal);
        for (var i = 0; i < _values.Length; i++)
        {
            byName[FeatureCatalogue.Names[i]] = _values[i];
        }

        return byName;
    }

    /// <summary>True when both vectors have the same time and bit-identical values (NaN equals NaN).</summary>
    public bool IsIdenticalTo(FeatureVector other) =>
        AsOf == other.AsOf && _values.AsSpan().SequenceEqual(other._values, BitwiseComparer.Instance);

    private sealed class BitwiseComparer : IEqualityComparer<double>
    {
        public static readonly BitwiseComparer Instance = new();

        public bool Equals(double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y);

        public int GetHashCode(double obj) => BitConverter.DoubleToInt64Bits(obj).GetHashCode();
    }
}
