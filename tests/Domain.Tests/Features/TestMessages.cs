using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Tests.Features;

/// <summary>Builds valid messages for one patient with only the fields a test cares about.</summary>
internal static class TestMessages
{
    public const string PatientId = "PT00000001";

    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public static ClinicalMessage Vitals(
        DateTimeOffset at, double? heartRate = null, double? systolic = null, double? diastolic = null,
        double? temperature = null, double? saturation = null, double? respiratory = null, Guid? id = null) =>
        Message(at, new VitalSigns(PatientId, systolic, diastolic, heartRate, temperature, saturation, respiratory), id);

    public static ClinicalMessage Labs(DateTimeOffset at, params (string Code, double Value)[] results) =>
        Message(at, new LabResults(PatientId, [.. results.Select(r => new LabResult(r.Code, r.Value, "unit", r.Value, "unit"))]));

    public static ClinicalMessage Adverse(DateTimeOffset at, Severity severity = Severity.Mild, bool serious = false,
        DrugRelation relation = DrugRelation.NotRelated, Guid? id = null) =>
        Message(at, new AdverseEvent(PatientId, "Headache", severity, serious, relation, at), id);

    public static ClinicalMessage Demographics(DateTimeOffset at, int age = 50, Gender gender = Gender.Female, double weightKg = 70,
        double heightCm = 175, DateOnly? enrolled = null, string arm = "Treatment A", string site = "SITE001") =>
        Message(at, new PatientDemographics(PatientId, age, gender, weightKg, heightCm, enrolled ?? new DateOnly(2026, 2, 1), arm), site: site);

    public static ClinicalMessage Message(DateTimeOffset at, ClinicalPayload payload, Guid? id = null, string site = "SITE001",
        StudyPhase phase = StudyPhase.PhaseII) =>
        new(id ?? Guid.NewGuid(), at, phase, site, payload);
}
