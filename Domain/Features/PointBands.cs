using System.Globalization;
using System.Text;

namespace ClinicalTrials.Domain.Features;

/// <summary>One band of a score table: values below <see cref="Bound"/> (or at it, when inclusive) score <see cref="Points"/>.</summary>
internal readonly record struct PointBand(decimal Bound, bool Inclusive, int Points)
{
    /// <summary>The power of ten that makes the bound a whole number (10 for 1.2).</summary>
    public long BoundScale { get; } = PowerOfTen(Bound.Scale);

    /// <summary>The bound times <see cref="BoundScale"/> (12 for 1.2): comparisons are then integer products, exact and cheap.</summary>
    public long ScaledBound { get; } = (long)(Bound * PowerOfTen(Bound.Scale));

    public static PointBand Below(decimal bound, int points) => new(bound, false, points);

    public static PointBand AtMost(decimal bound, int points) => new(bound, true, points);

    private static long PowerOfTen(int exponent)
    {
        var power = 1L;
        for (var i = 0; i < exponent; i++)
        {
            power *= 10;
        }

        return power;
    }
}

/// <summary>
/// The points one input of a clinical score earns: those of the first band the value falls in, or
/// <see cref="Otherwise"/> above them all. The table is both the rule and its text in docs/features.md, so the
/// two cannot disagree. Values are compared as exact fractions of integers, never as floating point, so a value
/// exactly on a published cut-off always lands on the side the publication puts it.
/// </summary>
/// <param name="Input">What the bounds apply to, as the docs name it (e.g. <c>respiratory_rate_last</c>).</param>
/// <param name="Bands">The bands in ascending order of bound.</param>
/// <param name="Otherwise">The points of a value above every band.</param>
internal sealed record PointBands(string Input, PointBand[] Bands, int Otherwise)
{
    /// <summary>The points of the value <paramref name="numerator"/> / <paramref name="denominator"/> (denominator &gt; 0).</summary>
    public int PointsFor(long numerator, long denominator)
    {
        foreach (var band in Bands)
        {
            // numerator / denominator against ScaledBound / BoundScale, cross-multiplied; with int values and bounds below 10^4 the products stay far inside a long.
            var (value, limit) = (numerator * band.BoundScale, band.ScaledBound * denominator);
            if (value < limit || (band.Inclusive && value == limit))
            {
                return band.Points;
            }
        }

        return Otherwise;
    }

    /// <summary>The points of a signal's fixed-point value.</summary>
    public int PointsFor(Signal signal, int fixedPoint) => PointsFor(fixedPoint, signal.Scale);

    /// <summary>The rule as docs/features.md states it, e.g. "temperature_celsius_last &lt; 36: 1, &lt;= 38: 0, otherwise 1".</summary>
    public string Describe()
    {
        var text = new StringBuilder(Input);
        for (var i = 0; i < Bands.Length; i++)
        {
            var band = Bands[i];
            text.Append(i == 0 ? " " : ", ").Append(band.Inclusive ? "<= " : "< ")
                .Append(band.Bound.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(band.Points);
        }

        return text.Append(", otherwise ").Append(Otherwise).ToString();
    }
}
