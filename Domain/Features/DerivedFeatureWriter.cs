namespace ClinicalTrials.Domain.Features;

/// <summary>Derived physiology: pressures, shock index and abnormal-value counts.</summary>
internal static class DerivedFeatureWriter
{
    private static readonly int PulsePressure = FeatureCatalogue.IndexOf("pulse_pressure");
    private static readonly int MeanArterialPressure = FeatureCatalogue.IndexOf("mean_arterial_pressure");
    private static readonly int ShockIndex = FeatureCatalogue.IndexOf("shock_index");
    private static readonly int PulsePressureMean1h = FeatureCatalogue.IndexOf("pulse_pressure_mean_1h");
    private static readonly int MeanArterialPressureMean1h = FeatureCatalogue.IndexOf("mean_arterial_pressure_mean_1h");
    private static readonly int ShockIndexMean1h = FeatureCatalogue.IndexOf("shock_index_mean_1h");
    private static readonly int Hypoxaemia = FeatureCatalogue.IndexOf("hypoxaemia");
    private static readonly int AbnormalVitalsLast = FeatureCatalogue.IndexOf("abnormal_vitals_last");

    public static void Write(PatientFeatureState state, double[] values)
    {
        var systolic = state.LatestWithinDay(Signals.SystolicBp);
        var diastolic = state.LatestWithinDay(Signals.DiastolicBp);
        var heartRate = state.LatestWithinDay(Signals.HeartRate);
        var saturation = state.LatestWithinDay(Signals.OxygenSaturation);

        // Vitals are x10 fixed point: differences are exact integers, scaled once at the end.
        (values[PulsePressure], values[MeanArterialPressure]) = systolic is { } sbp && diastolic is { } dbp
            ? ((sbp - dbp) / 10.0, (sbp + (2.0 * dbp)) / 30.0)
            : (double.NaN, double.NaN);
        values[ShockIndex] = heartRate is { } hr && systolic is { } sbpForShock ? (double)hr / sbpForShock : double.NaN;

        var systolicMean = state.Window(Signals.SystolicBp, 0).Mean(Signals.All[Signals.SystolicBp]);
        var diastolicMean = state.Window(Signals.DiastolicBp, 0).Mean(Signals.All[Signals.DiastolicBp]);
        var heartRateMean = state.Window(Signals.HeartRate, 0).Mean(Signals.All[Signals.HeartRate]);
        values[PulsePressureMean1h] = systolicMean - diastolicMean;
        values[MeanArterialPressureMean1h] = (systolicMean + (2 * diastolicMean)) / 3;
        values[ShockIndexMean1h] = heartRateMean / systolicMean;
        values[Hypoxaemia] = saturation is { } o ? (o < 920 ? 1 : 0) : double.NaN;

        var abnormal = 0;
        for (var v = 0; v < Signals.VitalCount; v++)
        {
            abnormal += state.LatestWithinDay(v) is { } value && Signals.All[v].IsAbnormal(value) ? 1 : 0;
        }

        values[AbnormalVitalsLast] = abnormal;
    }
}
