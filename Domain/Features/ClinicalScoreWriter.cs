namespace ClinicalTrials.Domain.Features;

/// <summary>
/// SIRS, qSOFA, NEWS2 and SOFA from the latest value of each input measured in (t - 24h, t]. They read only values
/// the state already keeps, so they add nothing to it. A component without its inputs is NaN and adds 0 to its
/// score; each score also counts the components it could compute (docs/features.md).
/// </summary>
internal static class ClinicalScoreWriter
{
    private static readonly int SirsTemperature = FeatureCatalogue.IndexOf("sirs_temperature");
    private static readonly int SirsHeartRate = FeatureCatalogue.IndexOf("sirs_heart_rate");
    private static readonly int SirsRespiratoryRate = FeatureCatalogue.IndexOf("sirs_respiratory_rate");
    private static readonly int SirsWbc = FeatureCatalogue.IndexOf("sirs_wbc");
    private static readonly int SirsCriteriaMet = FeatureCatalogue.IndexOf("sirs_criteria_met");
    private static readonly int SirsPositive = FeatureCatalogue.IndexOf("sirs_positive");
    private static readonly int SirsCriteriaAvailable = FeatureCatalogue.IndexOf("sirs_criteria_available");
    private static readonly int QsofaScore = FeatureCatalogue.IndexOf("qsofa_score");
    private static readonly int QsofaCriteriaAvailable = FeatureCatalogue.IndexOf("qsofa_criteria_available");
    private static readonly int News2Score = FeatureCatalogue.IndexOf("news2_score");
    private static readonly int News2ComponentsAvailable = FeatureCatalogue.IndexOf("news2_components_available");
    private static readonly int Spo2Fio2Ratio = FeatureCatalogue.IndexOf("spo2_fio2_ratio");
    private static readonly int SofaRespiration = FeatureCatalogue.IndexOf("sofa_respiration");
    private static readonly int SofaCoagulation = FeatureCatalogue.IndexOf("sofa_coagulation");
    private static readonly int SofaLiver = FeatureCatalogue.IndexOf("sofa_liver");
    private static readonly int SofaCardiovascular = FeatureCatalogue.IndexOf("sofa_cardiovascular");
    private static readonly int SofaRenal = FeatureCatalogue.IndexOf("sofa_renal");
    private static readonly int SofaScore = FeatureCatalogue.IndexOf("sofa_score");
    private static readonly int SofaComponentsAvailable = FeatureCatalogue.IndexOf("sofa_components_available");

    // The NEWS2 inputs, in the order of ClinicalScores.News2Components.
    private static readonly int[] News2Signals =
        [Signals.RespiratoryRate, Signals.OxygenSaturation, Signals.Fio2, Signals.SystolicBp, Signals.HeartRate, Signals.Temperature];

    public static void Write(PatientFeatureState state, double[] values)
    {
        var systolic = state.LatestWithinDay(Signals.SystolicBp);
        var diastolic = state.LatestWithinDay(Signals.DiastolicBp);
        var saturation = state.LatestWithinDay(Signals.OxygenSaturation);
        var fio2 = state.LatestWithinDay(Signals.Fio2);

        var sirs = default(Tally);
        sirs.Add(values, SirsTemperature, Points(ClinicalScores.SirsTemperature, state, Signals.Temperature));
        sirs.Add(values, SirsHeartRate, Points(ClinicalScores.SirsHeartRate, state, Signals.HeartRate));
        var byRate = Points(ClinicalScores.SirsRespiratoryRate, state, Signals.RespiratoryRate);
        var byPco2 = Points(ClinicalScores.SirsPco2, state, Signals.Pco2);
        sirs.Add(values, SirsRespiratoryRate, byRate is null && byPco2 is null ? null : Math.Max(byRate ?? 0, byPco2 ?? 0));
        sirs.Add(values, SirsWbc, Points(ClinicalScores.SirsWbc, state, Signals.Wbc));
        values[SirsCriteriaMet] = sirs.Points;
        values[SirsPositive] = sirs.Points >= 2 ? 1 : 0;
        values[SirsCriteriaAvailable] = sirs.Available;

        var qsofa = default(Tally);
        qsofa.Add(Points(ClinicalScores.QsofaRespiratoryRate, state, Signals.RespiratoryRate));
        qsofa.Add(Points(ClinicalScores.QsofaSystolicBp, state, Signals.SystolicBp));
        values[QsofaScore] = qsofa.Points;
        values[QsofaCriteriaAvailable] = qsofa.Available;

        var news2 = default(Tally);
        for (var i = 0; i < News2Signals.Length; i++)
        {
            news2.Add(Points(ClinicalScores.News2Components[i], state, News2Signals[i]));
        }

        values[News2Score] = news2.Points;
        values[News2ComponentsAvailable] = news2.Available;

        // SpO2 is x10 and FiO2 (%) x1000, so S/F = (s / 10) / (f / 100,000) = 10,000 s / f, compared exactly as that fraction.
        (long Numerator, long Denominator)? ratio = saturation is { } s && fio2 is > 0 and { } f ? (10_000L * s, f) : null;
        values[Spo2Fio2Ratio] = ratio is { } r ? (double)r.Numerator / r.Denominator : double.NaN;
        var sofa = default(Tally);
        sofa.Add(values, SofaRespiration, ratio is { } sf && saturation <= ClinicalScores.MaximumSaturationForRatio * Signals.VitalScale
            ? ClinicalScores.SofaRespiration.PointsFor(sf.Numerator, sf.Denominator)
            : null);
        sofa.Add(values, SofaCoagulation, Points(ClinicalScores.SofaCoagulation, state, Signals.Platelets));
        sofa.Add(values, SofaLiver, Points(ClinicalScores.SofaLiver, state, Signals.Bilirubin));

        // Mean arterial pressure (systolic + 2 x diastolic) / 3 with both x10: the fraction (sbp + 2 dbp) / 30.
        sofa.Add(values, SofaCardiovascular, systolic is { } sbp && diastolic is { } dbp
            ? ClinicalScores.SofaCardiovascular.PointsFor(sbp + (2L * dbp), 3 * Signals.VitalScale)
            : null);
        sofa.Add(values, SofaRenal, Points(ClinicalScores.SofaRenal, state, Signals.Creatinine));
        values[SofaScore] = sofa.Points;
        values[SofaComponentsAvailable] = sofa.Available;
    }

    private static int? Points(PointBands bands, PatientFeatureState state, int signal) =>
        state.LatestWithinDay(signal) is { } value ? bands.PointsFor(Signals.All[signal], value) : null;

    /// <summary>A score's running sum: a missing component adds 0 and is not counted as available.</summary>
    private struct Tally
    {
        public int Points;
        public int Available;

        public void Add(int? points)
        {
            Points += points ?? 0;
            Available += points is null ? 0 : 1;
        }

        /// <summary>Adds the component and writes it to its own feature (NaN when missing).</summary>
        public void Add(double[] values, int slot, int? points)
        {
            values[slot] = points ?? double.NaN;
            Add(points);
        }
    }
}
