using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Features;

/// <summary>Patient-level features: adverse-event history, measurement counts and context (demographics, study, site).</summary>
internal static class PatientFeatureWriter
{
    private static readonly int AeCount = FeatureCatalogue.IndexOf("ae_count");
    private static readonly int AeCount24h = FeatureCatalogue.IndexOf("ae_count_24h");
    private static readonly int AeCount7d = FeatureCatalogue.IndexOf("ae_count_7d");
    private static readonly int AeSeriousCount = FeatureCatalogue.IndexOf("ae_serious_count");
    private static readonly int AeRelatedCount = FeatureCatalogue.IndexOf("ae_related_count");
    private static readonly int AeMaxSeverity = FeatureCatalogue.IndexOf("ae_max_severity");
    private static readonly int AeSeveritySum = FeatureCatalogue.IndexOf("ae_severity_sum");
    private static readonly int HoursSinceLastAe = FeatureCatalogue.IndexOf("hours_since_last_ae");
    private static readonly int VitalRecords24h = FeatureCatalogue.IndexOf("vital_records_24h");
    private static readonly int LabResults24h = FeatureCatalogue.IndexOf("lab_results_24h");
    private static readonly int HoursSinceFirstEvent = FeatureCatalogue.IndexOf("hours_since_first_event");
    private static readonly int HasDemographics = FeatureCatalogue.IndexOf("has_demographics");
    private static readonly int AgeYears = FeatureCatalogue.IndexOf("age_years");
    private static readonly int[] GenderSlots =
        [.. Enum.GetNames<Gender>().Select(g => FeatureCatalogue.IndexOf($"gender_{g.ToLowerInvariant()}"))];
    private static readonly int WeightKg = FeatureCatalogue.IndexOf("weight_kg");
    private static readonly int HeightCm = FeatureCatalogue.IndexOf("height_cm");
    private static readonly int Bmi = FeatureCatalogue.IndexOf("bmi");
    private static readonly int TrialArmPlacebo = FeatureCatalogue.IndexOf("trial_arm_placebo");
    private static readonly int TrialArmBucket = FeatureCatalogue.IndexOf("trial_arm_bucket");
    private static readonly int StudyPhase = FeatureCatalogue.IndexOf("study_phase");
    private static readonly int SiteBucket = FeatureCatalogue.IndexOf("site_bucket");
    private static readonly int DaysSinceEnrollment = FeatureCatalogue.IndexOf("days_since_enrollment");

    public static void Write(PatientFeatureState state, double[] values)
    {
        var clock = state.ClockSeconds;
        var events = state.AdverseEvents;
        values[AeCount] = events.Count;
        values[AeCount24h] = events.CountWithin(clock, ClinicalTime.Day);
        values[AeCount7d] = events.CountWithin(clock, 7 * ClinicalTime.Day);
        values[AeSeriousCount] = events.SeriousCount;
        values[AeRelatedCount] = events.RelatedCount;
        values[AeMaxSeverity] = events.MaxSeverity;
        values[AeSeveritySum] = events.SeveritySum;
        values[HoursSinceLastAe] = events.Count == 0 ? double.NaN : FeatureVectorWriter.Hours(clock - events.LastSeconds);
        values[VitalRecords24h] = state.VitalRecordCount;
        values[LabResults24h] = state.LabResultCount;
        values[HoursSinceFirstEvent] = state.HasEvent ? FeatureVectorWriter.Hours(clock - state.FirstEventSeconds) : double.NaN;

        var study = state.Context.Study;
        values[StudyPhase] = study?.Phase ?? double.NaN;
        values[SiteBucket] = study?.SiteBucket ?? double.NaN;

        var patient = state.Context.Patient;
        values[HasDemographics] = patient is null ? 0 : 1;
        values[AgeYears] = patient?.Age ?? double.NaN;
        for (var g = 0; g < GenderSlots.Length; g++)
        {
            values[GenderSlots[g]] = patient is { } p ? (p.Gender == g ? 1 : 0) : double.NaN;
        }

        values[WeightKg] = patient is { WeightX10: > 0 } w ? w.WeightX10 / 10.0 : double.NaN;
        values[HeightCm] = patient is { HeightX10: > 0 } h ? h.HeightX10 / 10.0 : double.NaN;

        // weight / (height / 100)^2 with both held x10: (kg x10 / 10) / (cm x10 / 1000)^2.
        values[Bmi] = patient is { WeightX10: > 0, HeightX10: > 0 } q ? q.WeightX10 * 100_000.0 / ((double)q.HeightX10 * q.HeightX10) : double.NaN;
        values[TrialArmPlacebo] = patient is { } r ? (r.Placebo ? 1 : 0) : double.NaN;
        values[TrialArmBucket] = patient?.TrialArmBucket ?? double.NaN;
        values[DaysSinceEnrollment] = patient is { } t
            ? (double)(clock - ((long)t.EnrollmentDay * ClinicalTime.Day)) / ClinicalTime.Day
            : double.NaN;
    }
}
