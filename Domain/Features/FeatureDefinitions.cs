using System.Globalization;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// The text of every feature, in vector order. The feature set's version is a hash of this text, so editing a
/// definition here is what versions it; <see cref="FeatureVectorWriter"/> finds each feature's slot by name.
/// </summary>
internal static class FeatureDefinitions
{
    public const string AllHistory = "all history";
    public const string Latest24h = "latest within 24 h";
    private const string Count = "count";
    private const string ZeroWhenNone = "0 when none";
    private const string NaNWhenNone = "NaN when never measured";
    private const string NoDemographics = "NaN without demographics";
    private const string Inputs = "NaN unless every input was measured in (t - 24h, t]";

    public static readonly string[] Statistics = ["count", "mean", "std", "min", "max", "slope_per_hour"];

    /// <summary>The lags of the <c>_change_</c> features, in hours.</summary>
    public static readonly int[] ChangeLagHours = [1, 3, 6];

    /// <summary>The signals with <c>_change_</c> features: the vitals and the six key labs, measured often enough to change within hours.</summary>
    public static int ChangeSignalCount => Signals.VitalCount + Signals.KeyLabCount;

    public static IEnumerable<FeatureDefinition> Build()
    {
        foreach (var signal in Signals.All)
        {
            foreach (var feature in SignalFeatures(signal))
            {
                yield return feature;
            }
        }

        foreach (var feature in Changes().Concat(Derived()).Concat(Scores()).Concat(History()).Concat(Context()))
        {
            yield return feature;
        }
    }

    private static IEnumerable<FeatureDefinition> SignalFeatures(Signal s)
    {
        var (n, d, u) = (s.Name, s.Description, s.Unit);
        var normal = string.Create(CultureInfo.InvariantCulture, $"[{s.Range.NormalMin}, {s.Range.NormalMax}] {u}");
        for (var w = 0; w < ClinicalTime.WindowCount; w++)
        {
            var window = ClinicalTime.WindowLabels[w];
            yield return new($"{n}_count_{window}", $"number of {d} measurements with timestamp in (t - {window}, t]", window, Count, ZeroWhenNone);
            yield return new($"{n}_mean_{window}", $"mean of {d} in the window", window, u, "NaN when the count is 0");
            yield return new($"{n}_std_{window}", $"sample standard deviation (n - 1) of {d} in the window", window, u, "NaN when the count is below 2");
            yield return new($"{n}_min_{window}", $"lowest {d} in the window", window, u, "NaN when the count is 0");
            yield return new($"{n}_max_{window}", $"highest {d} in the window", window, u, "NaN when the count is 0");
            yield return new($"{n}_slope_per_hour_{window}", $"least-squares slope of {d} against clinical time in the window", window, $"{u}/h",
                "NaN unless measured at two different seconds");
        }

        yield return new($"{n}_abnormal_count_24h", $"measurements of {d} in the window outside the normal range {normal}", "24h", Count, ZeroWhenNone);
        yield return new($"{n}_last", $"latest {d} with timestamp <= t (at equal seconds the larger value)", AllHistory, u, NaNWhenNone);
        yield return new($"{n}_hours_since_last", $"hours from the latest {d} to t", AllHistory, "h", NaNWhenNone);
        yield return new($"{n}_abnormal_last", $"1 if {n}_last is outside the normal range {normal}, else 0", AllHistory, "flag", NaNWhenNone);
        yield return new($"{n}_baseline", $"mean of the first {SignalHistory.BaselineSize} {d} measurements by timestamp (all of them while fewer)",
            AllHistory, u, NaNWhenNone);
        yield return new($"{n}_delta_from_baseline", $"{n}_last - {n}_baseline", AllHistory, u, NaNWhenNone);
    }

    private static IEnumerable<FeatureDefinition> Changes()
    {
        foreach (var s in Signals.All[..ChangeSignalCount])
        {
            foreach (var lag in ChangeLagHours)
            {
                var window = $"(t - 24h, t - {lag}h]";
                yield return new($"{s.Name}_change_{lag}h", $"{s.Name}_last - the latest {s.Description} with timestamp in {window} (at equal seconds the larger value)",
                    "24h", s.Unit, $"NaN unless measured in {window}");
            }
        }
    }

    private static IEnumerable<FeatureDefinition> Derived()
    {
        const string Mean1h = "NaN unless every input has a 1h mean";
        yield return new("pulse_pressure", "systolic_bp_last - diastolic_bp_last", Latest24h, "mmHg", Inputs);
        yield return new("mean_arterial_pressure", "(systolic_bp_last + 2 * diastolic_bp_last) / 3", Latest24h, "mmHg", Inputs);
        yield return new("shock_index", "heart_rate_last / systolic_bp_last", Latest24h, "beats/min/mmHg", Inputs);
        yield return new("pulse_pressure_mean_1h", "systolic_bp_mean_1h - diastolic_bp_mean_1h", "1h", "mmHg", Mean1h);
        yield return new("mean_arterial_pressure_mean_1h", "(systolic_bp_mean_1h + 2 * diastolic_bp_mean_1h) / 3", "1h", "mmHg", Mean1h);
        yield return new("shock_index_mean_1h", "heart_rate_mean_1h / systolic_bp_mean_1h", "1h", "beats/min/mmHg", Mean1h);
        yield return new("hypoxaemia", "1 if oxygen_saturation_last < 92, else 0", Latest24h, "flag", Inputs);
        yield return new("abnormal_vitals_last", "number of the six vital signs whose latest value is outside its normal range", Latest24h, Count,
            "0 (a vital not measured in (t - 24h, t] is not counted)");
    }

    /// <summary>
    /// Clinical scores from the latest values (the bands are <see cref="ClinicalScores"/>). One rule for missing
    /// inputs: a component whose inputs were not measured in (t - 24h, t] is NaN and adds 0 to its score, and each
    /// score comes with the number of its components that were measured, so a 0 of nothing measured is told apart.
    /// </summary>
    private static IEnumerable<FeatureDefinition> Scores()
    {
        const string Total = "0 from a component whose inputs were not measured in (t - 24h, t]";
        const string Points = "points";
        const string Measured = "whose inputs were measured in (t - 24h, t]";

        yield return new("sirs_temperature", $"SIRS criterion (Bone 1992), 1 when met: {ClinicalScores.SirsTemperature.Describe()}", Latest24h, "flag", Inputs);
        yield return new("sirs_heart_rate", $"SIRS criterion, 1 when met: {ClinicalScores.SirsHeartRate.Describe()}", Latest24h, "flag", Inputs);
        yield return new("sirs_respiratory_rate",
            $"SIRS criterion, 1 when either is met: {ClinicalScores.SirsRespiratoryRate.Describe()}; {ClinicalScores.SirsPco2.Describe()}", Latest24h, "flag",
            "NaN unless respiratory_rate or pco2 was measured in (t - 24h, t]");
        yield return new("sirs_wbc", $"SIRS criterion, 1 when met: {ClinicalScores.SirsWbc.Describe()} (band forms are not a signal)", Latest24h, "flag", Inputs);
        yield return new("sirs_criteria_met", "number of the four sirs_* flags that are 1", Latest24h, Count, Total);
        yield return new("sirs_positive", "1 if sirs_criteria_met >= 2, else 0", Latest24h, "flag", Total);
        yield return new("sirs_criteria_available", $"number of the four SIRS criteria {Measured}", Latest24h, Count, ZeroWhenNone);

        yield return new("qsofa_score",
            $"qSOFA (Seymour 2016), criteria met: {ClinicalScores.QsofaRespiratoryRate.Describe()}; {ClinicalScores.QsofaSystolicBp.Describe()}; "
            + "altered mentation is not recorded", Latest24h, Points, Total);
        yield return new("qsofa_criteria_available", $"number of the two qSOFA criteria {Measured}", Latest24h, Count, ZeroWhenNone);

        yield return new("news2_score",
            $"NEWS2 (RCP 2017, SpO2 scale 1), the sum of: {string.Join("; ", ClinicalScores.News2Components.Select(b => b.Describe()))}; "
            + "fio2_last above room air stands for supplemental oxygen; consciousness is not recorded", Latest24h, Points, Total);
        yield return new("news2_components_available",
            $"number of the six NEWS2 components (respiratory rate, SpO2, supplemental oxygen, systolic pressure, heart rate, temperature) {Measured}",
            Latest24h, Count, ZeroWhenNone);

        yield return new("spo2_fio2_ratio", "oxygen_saturation_last / (fio2_last / 100)", Latest24h, "ratio", Inputs);
        yield return new("sofa_respiration",
            $"SOFA respiration (Vincent 1996) from SpO2/FiO2, no PaO2 being a signal: the PaO2/FiO2 cut-offs 100, 200, 300, 400 mapped by "
            + $"S/F = 64 + 0.84 x P/F (Rice 2007): {ClinicalScores.SofaRespiration.Describe()}; ventilation is not recorded", Latest24h, Points,
            $"NaN unless both inputs were measured in (t - 24h, t] and oxygen_saturation_last <= {ClinicalScores.MaximumSaturationForRatio}");
        yield return new("sofa_coagulation", $"SOFA coagulation: {ClinicalScores.SofaCoagulation.Describe()}", Latest24h, Points, Inputs);
        yield return new("sofa_liver", $"SOFA liver: {ClinicalScores.SofaLiver.Describe()}", Latest24h, Points, Inputs);
        yield return new("sofa_cardiovascular", $"SOFA cardiovascular: {ClinicalScores.SofaCardiovascular.Describe()}; vasopressors are not recorded",
            Latest24h, Points, Inputs);
        yield return new("sofa_renal", $"SOFA renal: {ClinicalScores.SofaRenal.Describe()}; urine output is not recorded", Latest24h, Points, Inputs);
        yield return new("sofa_score", "sofa_respiration + sofa_coagulation + sofa_liver + sofa_cardiovascular + sofa_renal "
            + "(the nervous system, by Glasgow coma scale, is not recorded)", Latest24h, Points, Total);
        yield return new("sofa_components_available", $"number of the five SOFA components {Measured}", Latest24h, Count, ZeroWhenNone);
    }

    private static IEnumerable<FeatureDefinition> History()
    {
        const string Report = "adverse events reported (message timestamp, not onset) with timestamp";
        yield return new("ae_count", $"number of {Report} <= t, each message id once", AllHistory, Count, ZeroWhenNone);
        yield return new("ae_count_24h", $"number of {Report} in (t - 24h, t]", "24h", Count, ZeroWhenNone);
        yield return new("ae_count_7d", $"number of {Report} in (t - 7d, t]", "7d", Count, ZeroWhenNone);
        yield return new("ae_serious_count", "number of those adverse events marked serious", AllHistory, Count, ZeroWhenNone);
        yield return new("ae_related_count", "number of those adverse events possibly, probably or definitely related to the study drug",
            AllHistory, Count, ZeroWhenNone);
        yield return new("ae_max_severity", "highest severity (1 mild, 2 moderate, 3 severe)", AllHistory, "ordinal", ZeroWhenNone);
        yield return new("ae_severity_sum", "sum of severities (1 mild, 2 moderate, 3 severe)", AllHistory, "ordinal", ZeroWhenNone);
        yield return new("hours_since_last_ae", "hours from the latest adverse event report to t", AllHistory, "h", "NaN when none");
        yield return new("vital_records_24h", "number of distinct seconds with vital signs in (t - 24h, t]", "24h", Count, ZeroWhenNone);
        yield return new("lab_results_24h", "number of featurised lab results (distinct test and second) in (t - 24h, t]", "24h", Count, ZeroWhenNone);
        yield return new("hours_since_first_event", "hours from the patient's earliest event of any kind to t", AllHistory, "h", "NaN when no event");
    }

    private static IEnumerable<FeatureDefinition> Context()
    {
        const string Latest = "from the demographics message with the latest timestamp <= t";
        yield return new("has_demographics", "1 if a demographics message has timestamp <= t, else 0", AllHistory, "flag", "0 when none");
        yield return new("age_years", $"age {Latest}", AllHistory, "years", NoDemographics);
        foreach (var gender in Enum.GetNames<Messages.Gender>().Select(g => g.ToLowerInvariant()))
        {
            yield return new($"gender_{gender}", $"1 if gender is {gender}, else 0 (one-hot) {Latest}", AllHistory, "flag", NoDemographics);
        }

        yield return new("weight_kg", $"body weight {Latest}", AllHistory, "kg", $"{NoDemographics} or when they give no weight");
        yield return new("height_cm", $"height {Latest}", AllHistory, "cm", $"{NoDemographics} or when they give no height");
        yield return new("bmi", "weight_kg / (height_cm / 100)^2", AllHistory, "kg/m^2", "NaN unless weight_kg and height_cm are both known");
        yield return new("trial_arm_placebo", $"1 if the trial arm name contains 'placebo' (any case), else 0 {Latest}", AllHistory, "flag", NoDemographics);
        yield return new("trial_arm_bucket", $"FNV-1a 32-bit hash of the trimmed upper-case trial arm name, modulo {PatientContext.TrialArmBuckets}",
            AllHistory, "bucket", NoDemographics);
        yield return new("study_phase", "study phase (1..4) from the message with the latest timestamp <= t", AllHistory, "ordinal", "NaN when no event");
        yield return new("site_bucket", $"FNV-1a 32-bit hash of the trimmed upper-case site id, modulo {PatientContext.SiteBuckets}, "
            + "from the message with the latest timestamp <= t", AllHistory, "bucket", "NaN when no event");
        yield return new("days_since_enrollment", "days from the enrollment date (00:00 UTC) to t; negative before enrollment", AllHistory, "days",
            NoDemographics);
    }
}
