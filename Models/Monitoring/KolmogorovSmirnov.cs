namespace ClinicalTrials.Models.Monitoring;

/// <summary>The two-sample Kolmogorov-Smirnov test: the largest gap between two empirical distribution functions.</summary>
public static class KolmogorovSmirnov
{
    /// <summary>
    /// The exact statistic of two complete samples (missing values left out by the caller): sup over x of
    /// |F_a(x) - F_b(x)|, evaluated after each distinct value so that ties move both functions together.
    /// </summary>
    public static double Statistic(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return double.NaN;
        }

        var x = a.Order().ToArray();
        var y = b.Order().ToArray();
        int i = 0, j = 0;
        double largest = 0;
        while (i < x.Length && j < y.Length)
        {
            var value = Math.Min(x[i], y[j]);
            while (i < x.Length && x[i] == value)
            {
                i++;
            }

            while (j < y.Length && y[j] == value)
            {
                j++;
            }

            largest = Math.Max(largest, Math.Abs((double)i / x.Length - (double)j / y.Length));
        }

        return largest;
    }

    /// <summary>
    /// The asymptotic p-value of a statistic <paramref name="d"/> between samples of <paramref name="n"/> and
    /// <paramref name="m"/> values: the Kolmogorov distribution's tail Q(sqrt(n m / (n + m)) d). Good from a few dozen
    /// values per side; conservative for discrete data.
    /// </summary>
    public static double PValue(double d, long n, long m)
    {
        if (n == 0 || m == 0 || double.IsNaN(d))
        {
            return double.NaN;
        }

        return KolmogorovTail(Math.Sqrt((double)n * m / (n + m)) * d);
    }

    /// <summary>
    /// Q(lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2). That series converges slowly for small lambda, where the
    /// equivalent 1 - sqrt(2 pi)/lambda sum_{j>=1} exp(-(2j-1)^2 pi^2 / (8 lambda^2)) converges fast; each is used on its side.
    /// </summary>
    internal static double KolmogorovTail(double lambda)
    {
        if (lambda <= 0)
        {
            return 1;
        }

        double sum = 0;
        if (lambda < 1.18)
        {
            for (var j = 1; j <= 6; j++)
            {
                sum += Math.Exp(-(2 * j - 1) * (2 * j - 1) * Math.PI * Math.PI / (8 * lambda * lambda));
            }

            return Math.Clamp(1 - Math.Sqrt(2 * Math.PI) / lambda * sum, 0, 1);
        }

        for (var j = 1; j <= 100; j++)
        {
            sum += (j % 2 == 1 ? 1 : -1) * Math.Exp(-2.0 * j * j * lambda * lambda);
        }

        return Math.Clamp(2 * sum, 0, 1);
    }
}
