using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// The code systems and codes where FHIR meets our messages: the LOINC codes of the vital-signs profile for our vital
/// fields, and the lab catalogue's LOINC codes for lab tests, both ways.
/// </summary>
internal static class FhirCodes
{
    public const string Loinc = "http://loinc.org";
    public const string Ucum = "http://unitsofmeasure.org";
    public const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    public const string LabTestCode = "http://www.cdisc.org/sdtm/LBTESTCD";
    public const string AdverseEventSeverity = "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
    public const string AdverseEventSeriousness = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
    public const string AdverseEventCausality = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess";
    public const string PatientIdentifier = "urn:clinicaltrials:patient-id";
    public const string MessageIdentifier = "urn:clinicaltrials:message-id";
    public const string OriginalValue = "urn:clinicaltrials:fhir:original-value";

    /// <summary>The blood pressure panel of the vital-signs profile: its components are systolic and diastolic.</summary>
    public const string BloodPressurePanel = "85354-9";

    /// <summary>Our vital-sign field, its LOINC code in the vital-signs profile, and its UCUM unit.</summary>
    public sealed record VitalCode(string Field, string Loinc, string Unit, string Display);

    public static readonly IReadOnlyList<VitalCode> Vitals =
    [
        new("systolic_bp", "8480-6", "mm[Hg]", "Systolic blood pressure"),
        new("diastolic_bp", "8462-4", "mm[Hg]", "Diastolic blood pressure"),
        new("heart_rate", "8867-4", "/min", "Heart rate"),
        new("temperature_celsius", "8310-5", "Cel", "Body temperature"),
        new("oxygen_saturation", "59408-5", "%", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        new("respiratory_rate", "9279-1", "/min", "Respiratory rate"),
        new("mean_arterial_pressure", "8478-0", "mm[Hg]", "Mean blood pressure"),
        new("etco2", "19889-5", "mm[Hg]", "Carbon dioxide at end expiration in Exhaled gas"),
    ];

    // Pulse oximetry may also come coded as arterial oxygen saturation.
    private static readonly Dictionary<string, VitalCode> VitalByLoinc =
        Vitals.ToDictionary(v => v.Loinc).Concat([KeyValuePair.Create("2708-6", Vitals[4])]).ToDictionary();

    private static readonly Dictionary<string, VitalCode> VitalByField = Vitals.ToDictionary(v => v.Field);

    private static readonly Dictionary<string, LabTest> LabByLoinc = LabCatalogue.Tests
        .Where(t => t.Loinc is not null)
        .GroupBy(t => t.Loinc!)
        .ToDictionary(g => g.Key, g => g.First());

    public static bool TryVital(string loinc, out VitalCode vital) => VitalByLoinc.TryGetValue(loinc, out vital!);

    public static VitalCode Vital(string field) => VitalByField[field];

    public static bool TryLab(string loinc, out LabTest test) => LabByLoinc.TryGetValue(loinc, out test!);
}
