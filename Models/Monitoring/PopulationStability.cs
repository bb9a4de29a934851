namespace ClinicalTrials.Models.Monitoring;

/// <summary>
/// The population stability index between a reference and an observed histogram over the same bins, the missing rows
/// counting as one more bin: sum over bins of (observed share - reference share) * ln(observed share / reference share).
/// Conventional reading: below 0.1 stable, 0.1 to 0.25 a shift worth a look, above 0.25 a shift.
/// </summary>
public static class PopulationStability
{
    /// <summary>
    /// Shares are floored at 1e-4 before the logarithm, so that a bin empty on one side gives a large but finite term
    /// instead of infinity (the usual convention; an empty bin on both sides then adds nothing).
    /// </summary>
    public const double ShareFloor = 1e-4;

    /// <summary>NaN when either side has no rows.</summary>
    public static double Index(IReadOnlyList<long> referenceCounts, long referenceMissing, IReadOnlyList<long> observedCounts, long observedMissing)
    {
        if (referenceCounts.Count != observedCounts.Count)
        {
            throw new ArgumentException("Both histograms must have the same bins.", nameof(observedCounts));
        }

        double referenceTotal = referenceCounts.Sum() + referenceMissing, observedTotal = observedCounts.Sum() + observedMissing;
        if (referenceTotal == 0 || observedTotal == 0)
        {
            return double.NaN;
        }

        var psi = Term(referenceMissing / referenceTotal, observedMissing / observedTotal);
        for (var i = 0; i < referenceCounts.Count; i++)
        {
            psi += Term(referenceCounts[i] / referenceTotal, observedCounts[i] / observedTotal);
        }

        return psi;
    }

    private static double Term(double reference, double observed)
    {
        reference = Math.Max(reference, ShareFloor);
        observed = Math.Max(observed, ShareFloor);
        return (observed - reference) * Math.Log(observed / reference);
    }
}
