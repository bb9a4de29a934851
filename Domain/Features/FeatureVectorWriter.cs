namespace ClinicalTrials.Domain.Features;

/// <summary>
/// Turns a state's exact aggregates into the feature vector. Each value is computed by one formula from integers,
/// so the same aggregates always give the same bits. Slots are looked up by name once, so the vector order is
/// the catalogue's by construction.
/// </summary>
internal static class FeatureVectorWriter
{
    private static readonly int StatisticCount = FeatureDefinitions.Statistics.Length;

    // [(signal * windows + window) * statistics + statistic]
    private static readonly int[] StatisticSlots =
    [
        .. from s in Signals.All
           from w in ClinicalTime.WindowLabels
           from stat in FeatureDefinitions.Statistics
           select FeatureCatalogue.IndexOf($"{s.Name}_{stat}_{w}"),
    ];

    private static readonly string[] SignalFeatures = ["abnormal_count_24h", "last", "hours_since_last", "abnormal_last", "baseline", "delta_from_baseline"];

    private static readonly int[] SignalSlots =
        [.. from s in Signals.All from f in SignalFeatures select FeatureCatalogue.IndexOf($"{s.Name}_{f}")];

    // [signal * lags + lag]
    private static readonly int[] ChangeSlots =
    [
        .. from s in Signals.All[..FeatureDefinitions.ChangeSignalCount]
           from lag in FeatureDefinitions.ChangeLagHours
           select FeatureCatalogue.IndexOf($"{s.Name}_change_{lag}h"),
    ];

    public static void Write(PatientFeatureState state, double[] values)
    {
        for (var s = 0; s < Signals.All.Length; s++)
        {
            WriteSignal(state, s, values);
        }

        for (var s = 0; s < FeatureDefinitions.ChangeSignalCount; s++)
        {
            WriteChanges(state, s, values);
        }

        DerivedFeatureWriter.Write(state, values);
        ClinicalScoreWriter.Write(state, values);
        PatientFeatureWriter.Write(state, values);
    }

    private static void WriteSignal(PatientFeatureState state, int s, double[] values)
    {
        var signal = Signals.All[s];
        for (var w = 0; w < ClinicalTime.WindowCount; w++)
        {
            ref readonly var a = ref state.Window(s, w);
            var slot = ((s * ClinicalTime.WindowCount) + w) * StatisticCount;
            values[StatisticSlots[slot]] = a.Count;
            values[StatisticSlots[slot + 1]] = a.Mean(signal);
            values[StatisticSlots[slot + 2]] = a.StandardDeviation(signal);
            values[StatisticSlots[slot + 3]] = a.Count == 0 ? double.NaN : signal.ToValue(a.Min);
            values[StatisticSlots[slot + 4]] = a.Count == 0 ? double.NaN : signal.ToValue(a.Max);
            values[StatisticSlots[slot + 5]] = a.SlopePerHour(signal);
        }

        var slots = SignalSlots.AsSpan(s * SignalFeatures.Length, SignalFeatures.Length);
        values[slots[0]] = state.Window(s, ClinicalTime.WindowCount - 1).AbnormalCount;
        var history = state.History;
        if (!history.HasValue(s))
        {
            foreach (var slot in slots[1..])
            {
                values[slot] = double.NaN;
            }

            return;
        }

        var last = signal.ToValue(history.LastValue(s));
        var (sum, count) = history.Baseline(s);
        var baseline = signal.ToValue((double)sum / count);
        values[slots[1]] = last;
        values[slots[2]] = Hours(state.ClockSeconds - history.LastSeconds(s));
        values[slots[3]] = signal.IsAbnormal(history.LastValue(s)) ? 1 : 0;
        values[slots[4]] = baseline;
        values[slots[5]] = last - baseline;
    }

    private static void WriteChanges(PatientFeatureState state, int s, double[] values)
    {
        var lags = FeatureDefinitions.ChangeLagHours;
        var last = state.LatestWithinDay(s);
        for (var i = 0; i < lags.Length; i++)
        {
            // The value lag hours ago is in (t - 24h, t - lag], so when there is one the latest value is within 24 h too.
            var before = last is null ? null : state.LatestWithinDayAtOrBefore(s, state.ClockSeconds - (lags[i] * ClinicalTime.Hour));
            values[ChangeSlots[(s * lags.Length) + i]] = last is { } l && before is { } b ? Signals.All[s].ToValue((double)l - b) : double.NaN;
        }
    }

    public static double Hours(int seconds) => (double)seconds / ClinicalTime.Hour;
}
