namespace ClinicalTrials.Domain.Features;

/// <summary>Derived physiology: pressures, shock index, SIRS-style criteria and abnormal-value counts.</summary>
internal static class DerivedFeatureWriter
{
    private static readonly int PulsePressure = FeatureCatalogue.IndexOf("pulse_pressure");
    private static readonly int MeanArterialPressure = FeatureCatalogue.IndexOf("mean_arterial_pressure");
    private static readonly int ShockIndex = FeatureCatalogue.IndexOf("shock_index");
    private static readonly int PulsePressureMean1h = FeatureCatalogue.IndexOf("pulse_pressure_mean_1h");
    private static readonly int MeanArterialPressureMean1h = FeatureCatalogue.IndexOf("mean_arterial_pressure_mean_1h");
    private static readonly int ShockIndexMean1h = FeatureCatalogue.IndexOf("shock_index_mean_1h");
    private static readonly int SirsTemperature = FeatureCatalogue.IndexOf("sirs_temperature");
    private static readonly int SirsHeartRate = FeatureCatalogue.IndexOf("sirs_heart_rate");
    private static readonly int SirsRespiratoryRate = FeatureCatalogue.IndexOf("sirs_respiratory_rate");
    private static readonly int SirsWbc = FeatureCatalogue.IndexOf("sirs_wbc");
    private static readonly int SirsCriteriaMet = FeatureCatalogue.IndexOf("sirs_criteria_met");
    private static readonly int SirsPositive = FeatureCatalogue.IndexOf("sirs_positive");
    private static readonly int Hypoxaemia = FeatureCatalogue.IndexOf("hypoxaemia");
    private static readonly int AbnormalVitalsLast = FeatureCatalogue.IndexOf("abnormal_vitals_last");

    public static void Write(PatientFeatureState state, double[] values)
    {
        var systolic = Recent(state, Signals.SystolicBp);
        var diastolic = Recent(state, Signals.DiastolicBp);
        var heartRate = Recent(state, Signals.HeartRate);
        var temperature = Recent(state, Signals.Temperature);
        var respiratory = Recent(state, Signals.RespiratoryRate);
        var wbc = Recent(state, Signals.Wbc);
        var saturation = Recent(state, Signals.OxygenSaturation);

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

        var criteria = 0;
        criteria += Flag(values, SirsTemperature, temperature, t => t is > 380 or < 360);
        criteria += Flag(values, SirsHeartRate, heartRate, h => h > 900);
        criteria += Flag(values, SirsRespiratoryRate, respiratory, r => r > 200);
        criteria += Flag(values, SirsWbc, wbc, w => w is > 12_000 or < 4_000);
        values[SirsCriteriaMet] = criteria;
        values[SirsPositive] = criteria >= 2 ? 1 : 0;
        Flag(values, Hypoxaemia, saturation, o => o < 920);

        var abnormal = 0;
        for (var v = 0; v < Signals.VitalCount; v++)
        {
            abnormal += Recent(state, v) is { } value && Signals.All[v].IsAbnormal(value) ? 1 : 0;
        }

        values[AbnormalVitalsLast] = abnormal;
    }

    /// <summary>The signal's latest fixed-point value if it was measured in (t - 24h, t].</summary>
    private static int? Recent(PatientFeatureState state, int signal) =>
        state.History.HasValue(signal) && state.History.LastSeconds(signal) > state.ClockSeconds - ClinicalTime.Day
            ? state.History.LastValue(signal)
            : null;

    private static int Flag(double[] values, int slot, int? value, Func<int, bool> criterion)
    {
        var met = value is { } v && criterion(v);
        values[slot] = value is null ? double.NaN : met ? 1 : 0;
        return met ? 1 : 0;
    }
}
