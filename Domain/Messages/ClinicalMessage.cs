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

    /// <summary>
    /// Single values rejected while the rest of the message is accepted (a lab result or a vital sign outside its
    /// possible range), and lab results stored but flagged <c>unknown_test</c> or <c>unknown_unit</c>; each names its
    /// field and rule (docs/labs.md).
    /// </summary>
    public IReadOnlyList<Validation.Violation> ResultIssues { get; init; } = [];

    /// <summary>
    /// The field paths of the values and lab results left out of the accepted message (a subset of what
    /// <see cref="ResultIssues"/> names: unknown tests and units are stored), recorded so that replay leaves them out again.
    /// </summary>
    public IReadOnlyList<string> SetAside { get; init; } = [];
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

/// <summary>Demographics; weight and height are optional (an ICU record often has no height).</summary>
public sealed record PatientDemographics(
    string PatientId,
    int Age,
    Gender Gender,
    double? WeightKg,
    double? HeightCm,
    DateOnly EnrollmentDate,
    string TrialArm) : ClinicalPayload(PatientId)
{
    public override PayloadType Type => PayloadType.PatientDemographics;
}

/// <summary>
/// Vital signs; each is optional but at least one is present. A measured mean arterial pressure and end-tidal CO2 are
/// kept beside the six signals the features use.
/// </summary>
public sealed record VitalSigns(
    string PatientId,
    double? SystolicBp,
    double? DiastolicBp,
    double? HeartRate,
    double? TemperatureCelsius,
    double? OxygenSaturation,
    double? RespiratoryRate) : ClinicalPayload(PatientId)
{
    /// <summary>Mean arterial pressure as measured (invasive or by the monitor), mmHg.</summary>
    public double? MeanArterialPressure { get; init; }

    /// <summary>End-tidal CO2, mmHg.</summary>
    public double? EndTidalCo2 { get; init; }

    public override PayloadType Type => PayloadType.VitalSigns;
}

public sealed record LabResults(string PatientId, IReadOnlyList<LabResult> Results) : ClinicalPayload(PatientId)
{
    public override PayloadType Type => PayloadType.LabResults;
}

/// <summary>
/// One lab test result. For a quantitative test of the catalogue, <see cref="Value"/> and <see cref="Unit"/> are in the
/// test's standard unit and the value and unit as sent are kept in <see cref="OriginalValue"/> and
/// <see cref="OriginalUnit"/>. A qualitative result has its answer in <see cref="Text"/> (and its rank in
/// <see cref="Value"/> when the answers are ordered). A result flagged <see cref="LabResultFlag.UnknownTest"/> or
/// <see cref="LabResultFlag.UnknownUnit"/> keeps the value and unit as sent, not standardised.
/// </summary>
public sealed record LabResult(string TestCode, double? Value, string? Unit, double? OriginalValue, string? OriginalUnit)
{
    /// <summary>A qualitative answer (NEGATIVE, 2+, YELLOW), in the catalogue's spelling when the test is known.</summary>
    public string? Text { get; init; }

    /// <summary>The specimen (CDISC LBSPEC) of a test other than a blood test, e.g. URINE; null for blood, serum or plasma.</summary>
    public string? Specimen { get; init; }

    public LabResultFlag Flag { get; init; }

    /// <summary>A quantitative value in the test's standard unit: the only kind of result that may become a feature.</summary>
    public bool IsStandardised => Flag == LabResultFlag.None && Text is null && Value is not null;

    /// <summary>A standardised blood test's value: what the feature catalogue may use.</summary>
    public bool IsStandardisedBloodValue => IsStandardised && Specimen is null;
}

/// <summary>The wire names of <see cref="LabResultFlag"/>: the rule names of the issues that flag them.</summary>
public static class LabResultFlags
{
    public static string? WireName(LabResultFlag flag) => flag switch
    {
        LabResultFlag.UnknownTest => Validation.Rules.UnknownTest,
        LabResultFlag.UnknownUnit => Validation.Rules.UnknownUnit,
        _ => null,
    };

    public static LabResultFlag Parse(string? wireName) => wireName switch
    {
        Validation.Rules.UnknownTest => LabResultFlag.UnknownTest,
        Validation.Rules.UnknownUnit => LabResultFlag.UnknownUnit,
        _ => LabResultFlag.None,
    };
}

/// <summary>Why a stored lab result could not be standardised.</summary>
public enum LabResultFlag
{
    None,

    /// <summary>The test code (for its specimen) is not in the lab catalogue.</summary>
    UnknownTest,

    /// <summary>The unit is missing or not one the catalogue lists for the test.</summary>
    UnknownUnit,
}

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
