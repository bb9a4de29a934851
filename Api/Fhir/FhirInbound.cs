using System.Globalization;
using System.Text;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// Turns the entries of a FHIR R4 Bundle into our own messages (the snake_case JSON contract), so that they take the one
/// ingest path and its one set of rules. A Patient only introduces its pseudonymous identifier; an Observation becomes
/// a vital-signs or lab message; an AdverseEvent an adverse-event message. An entry that cannot be mapped says why.
/// </summary>
internal sealed class FhirInbound(string siteId, string studyPhase)
{
    private readonly Dictionary<string, string> _patients = new(StringComparer.Ordinal);

    /// <summary>One entry: the message it maps to, or the reason it cannot (with the FHIR issue type).</summary>
    public sealed record Mapped(byte[]? Message, string? Problem, OperationOutcome.IssueType ProblemType, bool IsPatient);

    public List<Mapped> Map(Bundle bundle)
    {
        // Patients first: an Observation may reference a Patient entry that comes after it.
        foreach (var entry in bundle.Entry)
        {
            if (entry.Resource is Patient patient && PseudonymOf(patient) is { } id)
            {
                _patients[entry.FullUrl ?? ""] = id;
                if (patient.Id is { } logicalId)
                {
                    _patients[$"Patient/{logicalId}"] = id;
                }
            }
        }

        return bundle.Entry.Select(MapEntry).ToList();
    }

    private Mapped MapEntry(Bundle.EntryComponent entry)
    {
        try
        {
            return entry.Resource switch
            {
                Patient patient => MapPatient(patient),
                Observation observation => new Mapped(MapObservation(observation), null, default, false),
                Hl7.Fhir.Model.AdverseEvent adverseEvent => new Mapped(MapAdverseEvent(adverseEvent), null, default, false),
                null => Fail("The entry has no resource.", OperationOutcome.IssueType.Required),
                var other => Fail($"{other.TypeName} is not taken: send Patient, Observation or AdverseEvent.", OperationOutcome.IssueType.NotSupported),
            };
        }
        catch (UnmappableException e)
        {
            return Fail(e.Message, e.Type);
        }
    }

    private static Mapped Fail(string problem, OperationOutcome.IssueType type) => new(null, problem, type, false);

    private static Mapped MapPatient(Patient patient)
    {
        // Patient data is pseudonymous here: a resource that names, locates or reaches a person is refused whole.
        if (patient.Name.Count > 0 || patient.Telecom.Count > 0 || patient.Address.Count > 0 || patient.Photo.Count > 0
            || patient.Contact.Count > 0 || patient.BirthDate is not null)
        {
            return Fail("A Patient may carry only its pseudonymous identifier: name, telecom, address, photo, contact and birthDate are refused.",
                OperationOutcome.IssueType.Security);
        }

        return PseudonymOf(patient) is null
            ? Fail($"The Patient needs an identifier with value {ClinicalIds.PatientIdShape}.", OperationOutcome.IssueType.Required)
            : new Mapped(null, null, default, true);
    }

    private static string? PseudonymOf(Patient patient) =>
        patient.Identifier.Select(i => i.Value).FirstOrDefault(v => v is not null && ClinicalIds.IsPatientId(v));

    private byte[] MapObservation(Observation observation)
    {
        var patientId = Subject(observation.Subject);
        var at = observation.Effective switch
        {
            FhirDateTime dateTime => dateTime.ToDateTimeOffset(TimeSpan.Zero),
            Instant instant when instant.Value is { } value => value,
            Period { StartElement: { } start } => start.ToDateTimeOffset(TimeSpan.Zero),
            _ => throw new UnmappableException("The Observation needs effectiveDateTime, effectiveInstant or effectivePeriod.start.",
                OperationOutcome.IssueType.Required),
        };
        var loinc = observation.Code?.Coding.FirstOrDefault(c => c.System == FhirCodes.Loinc)?.Code
            ?? throw new UnmappableException("The Observation needs a LOINC code (code.coding with system http://loinc.org).", OperationOutcome.IssueType.Required);
        var isVital = observation.Category.Any(c => c.Coding.Any(x => x.System == FhirCodes.ObservationCategory && x.Code == "vital-signs"));

        return isVital
            ? Message(MessageId(observation.Identifier, observation), at, "vital_signs", w => WriteVitals(w, patientId, loinc, observation))
            : Message(MessageId(observation.Identifier, observation), at, "lab_results", w => WriteLab(w, patientId, loinc, observation));
    }

    private static void WriteVitals(Utf8JsonWriter w, string patientId, string loinc, Observation observation)
    {
        w.WriteString("patient_id", patientId);
        if (loinc == FhirCodes.BloodPressurePanel)
        {
            foreach (var component in observation.Component)
            {
                var code = component.Code?.Coding.FirstOrDefault(c => c.System == FhirCodes.Loinc)?.Code;
                if (code is not null && FhirCodes.TryVital(code, out var vital))
                {
                    WriteVital(w, vital, component.Value);
                }
            }

            return;
        }

        if (!FhirCodes.TryVital(loinc, out var single))
        {
            throw new UnmappableException($"LOINC {loinc} is not a vital sign we store ({string.Join(", ", FhirCodes.Vitals.Select(v => v.Loinc))}).",
                OperationOutcome.IssueType.NotSupported);
        }

        WriteVital(w, single, observation.Value);
    }

    private static void WriteVital(Utf8JsonWriter w, FhirCodes.VitalCode vital, DataType? value)
    {
        if (value is not Quantity { Value: { } number } quantity)
        {
            throw new UnmappableException($"{vital.Display} needs a valueQuantity.", OperationOutcome.IssueType.Required);
        }

        // The vital-signs profile allows body temperature in [degF]; our field is in Celsius.
        var celsius = vital.Field == "temperature_celsius" && (quantity.Code ?? quantity.Unit) is "[degF]" or "degF" or "°F";
        w.WriteNumber(vital.Field, celsius ? Math.Round(((double)number - 32) * 5 / 9, 2) : (double)number);
    }

    private static void WriteLab(Utf8JsonWriter w, string patientId, string loinc, Observation observation)
    {
        w.WriteString("patient_id", patientId);
        w.WriteStartArray("results");
        w.WriteStartObject();
        if (FhirCodes.TryLab(loinc, out var test))
        {
            w.WriteString("test_code", test.Code);
            if (test.Specimen is { } specimen)
            {
                w.WriteString("specimen", specimen);
            }
        }
        else
        {
            w.WriteString("test_code", $"LOINC:{loinc}"); // stored and flagged unknown_test: nothing the EMR sent is lost
        }

        switch (observation.Value)
        {
            case Quantity { Value: { } number } quantity:
                w.WriteNumber("value", number);
                if ((quantity.Code ?? quantity.Unit) is { } unit)
                {
                    w.WriteString("unit", unit);
                }

                break;
            case FhirString { Value: { } text }:
                w.WriteString("value", text);
                break;
            case CodeableConcept concept when (concept.Text ?? concept.Coding.FirstOrDefault()?.Display ?? concept.Coding.FirstOrDefault()?.Code) is { } answer:
                w.WriteString("value", answer);
                break;
            default:
                throw new UnmappableException("A lab Observation needs valueQuantity, valueString or valueCodeableConcept.", OperationOutcome.IssueType.Required);
        }

        w.WriteEndObject();
        w.WriteEndArray();
    }

    private byte[] MapAdverseEvent(Hl7.Fhir.Model.AdverseEvent adverseEvent)
    {
        var patientId = Subject(adverseEvent.Subject);
        var onset = ParseDateTime(adverseEvent.DateElement) ?? ParseDateTime(adverseEvent.DetectedElement)
            ?? throw new UnmappableException("The AdverseEvent needs date or detected.", OperationOutcome.IssueType.Required);
        var reported = ParseDateTime(adverseEvent.RecordedDateElement) ?? onset;
        var term = adverseEvent.Event?.Text ?? adverseEvent.Event?.Coding.FirstOrDefault()?.Display ?? adverseEvent.Event?.Coding.FirstOrDefault()?.Code
            ?? throw new UnmappableException("The AdverseEvent needs event (text, or a coding with display or code).", OperationOutcome.IssueType.Required);
        var severity = adverseEvent.Severity?.Coding.FirstOrDefault()?.Code?.ToUpperInvariant()
            ?? throw new UnmappableException("The AdverseEvent needs severity (mild, moderate, severe).", OperationOutcome.IssueType.Required);
        var serious = adverseEvent.Seriousness?.Coding.FirstOrDefault()?.Code
            ?? throw new UnmappableException("The AdverseEvent needs seriousness (serious, non-serious).", OperationOutcome.IssueType.Required);
        var causality = adverseEvent.SuspectEntity.SelectMany(s => s.Causality).Select(c => c.Assessment?.Coding.FirstOrDefault()?.Code).FirstOrDefault(c => c is not null);

        return Message(MessageId(adverseEvent.Identifier is { } identifier ? [identifier] : [], adverseEvent), reported, "adverse_event", w =>
        {
            w.WriteString("patient_id", patientId);
            w.WriteString("event_term", term);
            w.WriteString("severity", severity);
            w.WriteBoolean("serious", serious == "serious");
            w.WriteString("relation_to_study_drug", Relation(causality));
            w.WriteString("onset", onset);
        });
    }

    /// <summary>The FHIR causality assessment as our relation to the study drug (none given: not related).</summary>
    internal static string Relation(string? causality) => causality?.ToLowerInvariant() switch
    {
        "certain" => "DEFINITE",
        "probably-likely" or "probable" => "PROBABLE",
        "possible" => "POSSIBLE",
        "unlikely" => "UNLIKELY",
        _ => "NOT_RELATED",
    };

    private static DateTimeOffset? ParseDateTime(FhirDateTime? element) => element?.Value is null ? null : element.ToDateTimeOffset(TimeSpan.Zero);

    private string Subject(ResourceReference? subject)
    {
        if (subject?.Reference is { } reference)
        {
            if (_patients.TryGetValue(reference, out var known))
            {
                return known;
            }

            if (reference.StartsWith("Patient/", StringComparison.Ordinal) && ClinicalIds.IsPatientId(reference.AsSpan(8)))
            {
                return reference[8..];
            }
        }

        if (subject?.Identifier?.Value is { } value && ClinicalIds.IsPatientId(value))
        {
            return value;
        }

        throw new UnmappableException(
            $"subject must reference a Patient by its pseudonymous identifier ({ClinicalIds.PatientIdShape}): Patient/ID, a Patient entry of the bundle, or subject.identifier.",
            OperationOutcome.IssueType.Required);
    }

    /// <summary>
    /// The message id: a UUID identifier as sent; otherwise one derived from the site and the resource's first
    /// identifier, or from its content, so that the site sending the same resource again is answered duplicate (and two
    /// sites whose systems happen to share an identifier never take each other's resources for resends).
    /// </summary>
    private Guid MessageId(IEnumerable<Identifier> identifiers, Resource resource)
    {
        var first = identifiers.FirstOrDefault(i => i.Value is not null);
        if (first?.Value is { } value && Guid.TryParse(value.StartsWith("urn:uuid:", StringComparison.Ordinal) ? value[9..] : value, out var id))
        {
            return id;
        }

        var basis = first is not null ? $"{first.System}|{first.Value}" : resource.ToJson();
        return MessageJson.NameBasedId(Encoding.UTF8.GetBytes($"fhir:{siteId}:{resource.TypeName}:{basis}"));
    }

    private byte[] Message(Guid messageId, DateTimeOffset at, string payload, Action<Utf8JsonWriter> writePayload) =>
        MessageJson.Write(messageId, at, studyPhase, siteId, payload, writePayload);

    private sealed class UnmappableException(string message, OperationOutcome.IssueType type) : Exception(message)
    {
        public OperationOutcome.IssueType Type { get; } = type;
    }
}
