using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// What every silver row carries: the envelope and the keys de-duplication works on. <see cref="Detail"/> narrows the
/// natural key where one message gives several rows or several facts (the test code of a lab row, the term of an
/// adverse event); it is empty for vital signs and demographics.
/// </summary>
internal interface ISilverRow
{
    Guid MessageId { get; }

    string PatientId { get; }

    /// <summary>Clinical time (UTC, microsecond precision): the partition date and the natural key come from it.</summary>
    DateTime Timestamp { get; }

    /// <summary>The "source" of the natural key (patient_id, timestamp, source): the sending site.</summary>
    string SiteId { get; }

    int StudyPhase { get; }

    DateTime ReceivedAt { get; }

    string Detail { get; }
}

internal sealed record VitalRow(
    Guid MessageId, string PatientId, DateTime Timestamp, string SiteId, int StudyPhase, DateTime ReceivedAt,
    double? SystolicBp, double? DiastolicBp, double? HeartRate, double? TemperatureCelsius, double? OxygenSaturation,
    double? RespiratoryRate) : ISilverRow
{
    /// <summary>Mean arterial pressure as measured, mmHg (<see cref="MeanArterialPressure"/> is derived).</summary>
    public double? MeasuredMeanArterialPressure { get; init; }

    public double? EndTidalCo2 { get; init; }

    public string Detail => "";

    /// <summary>Systolic minus diastolic, mmHg.</summary>
    public double? PulsePressure => SystolicBp - DiastolicBp;

    /// <summary>Mean arterial pressure, diastolic + (systolic - diastolic) / 3, mmHg.</summary>
    public double? MeanArterialPressure => DiastolicBp + (PulsePressure / 3);

    /// <summary>Heart rate over systolic pressure (beats/min per mmHg); above 1 suggests shock.</summary>
    public double? ShockIndex => HeartRate / SystolicBp;
}

internal sealed record LabRow(
    Guid MessageId, string PatientId, DateTime Timestamp, string SiteId, int StudyPhase, DateTime ReceivedAt,
    string TestCode, double? Value, string? Unit, double? OriginalValue, string? OriginalUnit) : ISilverRow
{
    public string? Text { get; init; }

    public string? Specimen { get; init; }

    /// <summary>The wire name of the result's <see cref="LabResultFlag"/>; null when standardised.</summary>
    public string? Flag { get; init; }

    /// <summary>A urine test may share its code with a blood test: the specimen keeps them apart.</summary>
    public string Detail => Specimen is null ? TestCode : $"{TestCode}|{Specimen}";

    public static LabRow From(Guid id, string patient, DateTime time, string site, int phase, DateTime received, LabResult r) =>
        new(id, patient, time, site, phase, received, r.TestCode, r.Value, r.Unit, r.OriginalValue, r.OriginalUnit)
        {
            Text = r.Text, Specimen = r.Specimen, Flag = LabResultFlags.WireName(r.Flag),
        };

    public LabResult ToResult() => new(TestCode, Value, Unit, OriginalValue, OriginalUnit)
    {
        Text = Text, Specimen = Specimen, Flag = LabResultFlags.Parse(Flag),
    };
}

internal sealed record DemographicsRow(
    Guid MessageId, string PatientId, DateTime Timestamp, string SiteId, int StudyPhase, DateTime ReceivedAt,
    int Age, string Gender, double? WeightKg, double? HeightCm, DateOnly EnrollmentDate, string TrialArm) : ISilverRow
{
    public string Detail => "";

    /// <summary>Body-mass index, kg/m².</summary>
    public double? Bmi => WeightKg / (HeightCm / 100 * (HeightCm / 100));
}

internal sealed record AdverseEventRow(
    Guid MessageId, string PatientId, DateTime Timestamp, string SiteId, int StudyPhase, DateTime ReceivedAt,
    string EventTerm, string Severity, bool Serious, string RelationToStudyDrug, DateTime Onset) : ISilverRow
{
    public string Detail => EventTerm;
}

/// <summary>Between clinical messages and silver rows, both ways (the offline feature job reads messages back).</summary>
internal static class SilverRows
{
    public static DateTime Micros(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), DateTimeKind.Utc);

    public static DateTimeOffset Offset(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    /// <summary>The message as a clinical message again, for the one feature code path.</summary>
    public static ClinicalMessage ToMessage(VitalRow r) => new(r.MessageId, Offset(r.Timestamp), (StudyPhase)r.StudyPhase, r.SiteId,
        new VitalSigns(r.PatientId, r.SystolicBp, r.DiastolicBp, r.HeartRate, r.TemperatureCelsius, r.OxygenSaturation, r.RespiratoryRate)
        {
            MeanArterialPressure = r.MeasuredMeanArterialPressure, EndTidalCo2 = r.EndTidalCo2,
        });

    public static ClinicalMessage ToMessage(DemographicsRow r) => new(r.MessageId, Offset(r.Timestamp), (StudyPhase)r.StudyPhase, r.SiteId,
        new PatientDemographics(r.PatientId, r.Age, WireNames.Gender.Parse(r.Gender), r.WeightKg, r.HeightCm, r.EnrollmentDate, r.TrialArm));

    public static ClinicalMessage ToMessage(AdverseEventRow r) => new(r.MessageId, Offset(r.Timestamp), (StudyPhase)r.StudyPhase, r.SiteId,
        new AdverseEvent(r.PatientId, r.EventTerm, WireNames.Severity.Parse(r.Severity), r.Serious, WireNames.DrugRelation.Parse(r.RelationToStudyDrug), Offset(r.Onset)));

    /// <summary>The rows of one lab message (same message id, patient and time) as one message.</summary>
    public static ClinicalMessage ToMessage(IReadOnlyList<LabRow> rows)
    {
        var first = rows[0];
        return new ClinicalMessage(first.MessageId, Offset(first.Timestamp), (StudyPhase)first.StudyPhase, first.SiteId,
            new LabResults(first.PatientId, [.. rows.Select(r => r.ToResult())]));
    }
}
