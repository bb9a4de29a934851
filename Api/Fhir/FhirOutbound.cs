using ClinicalTrials.Domain.Messages;
using Hl7.Fhir.Model;

namespace ClinicalTrials.Api.Fhir;

/// <summary>Our stored messages as FHIR R4 resources: one Observation per vital sign or lab result, one AdverseEvent.</summary>
internal static class FhirOutbound
{
    public static Patient Patient(string patientId) => new()
    {
        Id = patientId,
        Identifier = [new Identifier(FhirCodes.PatientIdentifier, patientId)],
    };

    public static IEnumerable<Resource> Resources(ClinicalMessage message) => message.Payload switch
    {
        VitalSigns v => Vitals(message, v),
        LabResults labs => labs.Results.Select((r, i) => (Resource)LabObservation(message, r, i)),
        Domain.Messages.AdverseEvent ae => [AdverseEvent(message, ae)],
        _ => [],
    };

    private static IEnumerable<Resource> Vitals(ClinicalMessage message, VitalSigns v)
    {
        (string Field, double? Value)[] values =
        [
            ("systolic_bp", v.SystolicBp), ("diastolic_bp", v.DiastolicBp), ("heart_rate", v.HeartRate),
            ("temperature_celsius", v.TemperatureCelsius), ("oxygen_saturation", v.OxygenSaturation), ("respiratory_rate", v.RespiratoryRate),
            ("mean_arterial_pressure", v.MeanArterialPressure), ("etco2", v.EndTidalCo2),
        ];
        foreach (var (field, value) in values)
        {
            if (value is { } measured)
            {
                var code = FhirCodes.Vital(field);
                yield return new Observation
                {
                    Id = $"{message.MessageId:N}-{field.Replace('_', '-')}",
                    Identifier = [MessageIdentifier(message, field)],
                    Status = ObservationStatus.Final,
                    Category = [Category("vital-signs")],
                    Code = new CodeableConcept(FhirCodes.Loinc, code.Loinc, code.Display),
                    Subject = new ResourceReference($"Patient/{message.PatientId}"),
                    Effective = new FhirDateTime(message.Timestamp),
                    Value = new Quantity((decimal)measured, code.Unit, FhirCodes.Ucum) { Unit = code.Unit },
                };
            }
        }
    }

    /// <summary>
    /// A lab result as a laboratory Observation: LOINC (where the catalogue has one) and LBTESTCD codings, the value in
    /// the standard unit, and the value as sent in an extension; a qualitative answer as valueString.
    /// </summary>
    public static Observation LabObservation(ClinicalMessage message, LabResult result, int index)
    {
        var code = new CodeableConcept { Coding = [], Text = result.TestCode };
        if (Domain.Validation.LabCatalogue.TryFind(result.TestCode, result.Specimen, out var test))
        {
            if (test.Loinc is { } loinc)
            {
                code.Coding.Add(new Coding(FhirCodes.Loinc, loinc, test.Name));
            }

            code.Text = test.Name;
        }

        code.Coding.Add(new Coding(FhirCodes.LabTestCode, result.TestCode));
        var observation = new Observation
        {
            Id = $"{message.MessageId:N}-{index}",
            Identifier = [MessageIdentifier(message, index.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            Status = ObservationStatus.Final,
            Category = [Category("laboratory")],
            Code = code,
            Subject = new ResourceReference($"Patient/{message.PatientId}"),
            Effective = new FhirDateTime(message.Timestamp),
        };
        if (result.Text is { } text)
        {
            observation.Value = new FhirString(text);
        }
        else if (result.Value is { } value)
        {
            observation.Value = new Quantity((decimal)value, result.Unit ?? "1", FhirCodes.Ucum) { Unit = result.Unit };
            if (result.OriginalValue is { } original && (result.OriginalUnit != result.Unit || original != value))
            {
                observation.Extension.Add(new Extension(FhirCodes.OriginalValue,
                    new Quantity((decimal)original, result.OriginalUnit ?? "1", FhirCodes.Ucum) { Unit = result.OriginalUnit }));
            }
        }

        return observation;
    }

    private static Hl7.Fhir.Model.AdverseEvent AdverseEvent(ClinicalMessage message, Domain.Messages.AdverseEvent ae) => new()
    {
        Id = $"{message.MessageId:N}",
        Identifier = MessageIdentifier(message, null),
        Actuality = Hl7.Fhir.Model.AdverseEvent.AdverseEventActuality.Actual,
        Subject = new ResourceReference($"Patient/{message.PatientId}"),
        Event = new CodeableConcept { Text = ae.EventTerm },
        DateElement = new FhirDateTime(ae.Onset),
        RecordedDateElement = new FhirDateTime(message.Timestamp),
        Severity = new CodeableConcept(FhirCodes.AdverseEventSeverity, ae.Severity.ToString().ToLowerInvariant()),
        Seriousness = new CodeableConcept(FhirCodes.AdverseEventSeriousness, ae.Serious ? "serious" : "non-serious"),
        SuspectEntity = ae.RelationToStudyDrug == DrugRelation.NotRelated ? [] :
        [
            new Hl7.Fhir.Model.AdverseEvent.SuspectEntityComponent
            {
                Instance = new ResourceReference { Display = "Study drug" },
                Causality = [new() { Assessment = new CodeableConcept(FhirCodes.AdverseEventCausality, Causality(ae.RelationToStudyDrug)) }],
            },
        ],
    };

    private static string Causality(DrugRelation relation) => relation switch
    {
        DrugRelation.Definite => "certain",
        DrugRelation.Probable => "probably-likely",
        DrugRelation.Possible => "possible",
        _ => "unlikely",
    };

    private static CodeableConcept Category(string code) => new(FhirCodes.ObservationCategory, code);

    /// <summary>The message id (and, for one value of a message, which value): what a conditional create matches on.</summary>
    public static Identifier MessageIdentifier(ClinicalMessage message, string? part) =>
        new(FhirCodes.MessageIdentifier, part is null ? $"{message.MessageId}" : $"{message.MessageId}/{part}");
}
