using System.Text.Json.Serialization;

namespace ClinicalTrials.Domain.Messages;

/// <summary>
/// A validated clinical message: the envelope every site sends plus exactly one payload.
/// Timestamps are UTC. Values are already standardised (see <see cref="LabResult"/>).
/// </summary>
public sealed record ClinicalMessage(
    Guid MessageId,
    DateTimeOffset Timestamp,
    StudyPhase StudyPhase,
    string SiteId,
    ClinicalPayload Payload)
{
    public string PatientId => Payload.PatientId;

    public PayloadType PayloadType => Payload.Type;

    /// <summary>Clinically abnormal (but possible) values found while validating.</summary>
    public IReadOnlyList<AbnormalFlag> Flags { get; init; } = [];
}

/// <summary>One of the four payloads. Every payload belongs to one pseudonymous patient.</summary>
/// <remarks>The discriminators let the records travel between silos as JSON.</remarks>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "$payload")]
[JsonDerivedType(typeof(PatientDemographics), "patient_demographics")]
[JsonDerivedType(typeof(VitalSigns), "vital_signs")]
[JsonDerivedType(typeof(LabResults), "lab_results")]
[JsonDerivedType(typeof(AdverseEvent), "adverse_event")]
public abstract record ClinicalPayload(string PatientId)
{
    public abstract PayloadType Type { get; }
}

public sealed record PatientDemographics(
    string PatientId,
    int Age,
    Gender Gender,
    double WeightKg,
    double HeightCm,
    DateOnly EnrollmentDate,
    string TrialArm) : ClinicalPayload(PatientId)
{
    public override PayloadType Type => PayloadType.PatientDemographics;
}

/// <summary>Vital signs; each is optional but at least one is present.</summary>
public sealed record VitalSigns(
    string PatientId,
    double? SystolicBp,
    double? DiastolicBp,
    double? HeartRate,
    double? TemperatureCelsius,
    double? OxygenSaturation,
    double? RespiratoryRate) : ClinicalPayload(PatientId)
{
    public override PayloadType Type => PayloadType.VitalSigns;
}

public sealed record LabResults(string PatientId, IReadOnlyList<LabResult> Results) : ClinicalPayload(PatientId)
{
    public override PayloadType Type => PayloadType.LabResults;
}

/// <summary>
/// One lab test. <see cref="Value"/> and <see cref="Unit"/> are in the test's standard unit;
/// the value and unit as sent are kept in <see cref="OriginalValue"/> and <see cref="OriginalUnit"/>.
/// </summary>
public sealed record LabResult(string TestCode, double Value, string Unit, double OriginalValue, string OriginalUnit);

public sealed record AdverseEvent(
    string PatientId,
    string EventTerm,
    Severity Severity,
    bool Serious,
    DrugRelation RelationToStudyDrug,
    DateTimeOffset Onset) : ClinicalPayload(PatientId)
{
    public override PayloadType Type => PayloadType.AdverseEvent;
}

/// <summary>A value outside the clinical reference range: accepted, but flagged.</summary>
public sealed record AbnormalFlag(string Field, double Value, AbnormalDirection Direction);

public enum AbnormalDirection
{
    Low,
    High,
}

public enum StudyPhase
{
    PhaseI = 1,
    PhaseII = 2,
    PhaseIII = 3,
    PhaseIV = 4,
}

public enum Gender
{
    Male,
    Female,
    Other,
    Unknown,
}

public enum Severity
{
    Mild = 1,
    Moderate = 2,
    Severe = 3,
}

public enum DrugRelation
{
    NotRelated,
    Unlikely,
    Possible,
    Probable,
    Definite,
}
