using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// The clinical message contract as a JSON Schema (draft 2020-12), for clients and their generators; the API serves it
/// and uses it as the request body of the ingest endpoints. Identifiers, payload names, timestamp and date patterns,
/// vital sign names and clinical ranges are read from what <see cref="ClinicalMessageParser"/> uses, so they cannot
/// differ; the required fields are written here and checked against the parser by a test that drops each in turn.
/// </summary>
/// <remarks>
/// The parser is more lenient than the schema in a few documented ways (enum values in any case, "Phase 2" for
/// "Phase II", null for a missing optional value), and it judges more: values outside their possible range are set
/// aside or rejected by the rules the schema states as minimum and maximum. Everything is inline (no <c>$defs</c>), so
/// the schema reads the same on its own and as a component of the OpenAPI document.
/// </remarks>
public static class ClinicalMessageSchema
{
    /// <summary>The fields every message carries beside its one payload.</summary>
    public static readonly IReadOnlyList<string> EnvelopeRequired = ["message_id", "timestamp", "study_phase", "site_id"];

    /// <summary>The required fields of each payload.</summary>
    public static readonly IReadOnlyDictionary<PayloadType, IReadOnlyList<string>> PayloadRequired = new Dictionary<PayloadType, IReadOnlyList<string>>
    {
        [PayloadType.PatientDemographics] = ["patient_id", "age", "gender", "enrollment_date", "trial_arm"],
        [PayloadType.VitalSigns] = ["patient_id"],
        [PayloadType.LabResults] = ["patient_id", "results"],
        [PayloadType.AdverseEvent] = ["patient_id", "event_term", "severity", "serious", "relation_to_study_drug"],
    };

    /// <summary>The required fields of each item of <c>lab_results.results</c>.</summary>
    public static readonly IReadOnlyList<string> LabResultRequired = ["test_code", "value"];

    /// <summary>The schema, a new copy on each call (callers may change or embed it).</summary>
    public static JsonObject Build()
    {
        var properties = new JsonObject
        {
            ["message_id"] = new JsonObject { ["type"] = "string", ["format"] = "uuid", ["description"] = "Unique per message; a resend with the same id is stored once." },
            ["timestamp"] = Timestamp("Clinical time of the observation; no offset means UTC; at most 5 minutes ahead of the receiver's clock."),
            ["study_phase"] = Enum(WireNames.StudyPhase.Names),
            ["site_id"] = new JsonObject { ["type"] = "string", ["pattern"] = "^[A-Z][A-Z0-9_-]{2,31}$", ["description"] = ClinicalIds.SiteIdShape },
        };
        var exactlyOne = new JsonArray();
        foreach (var type in PayloadTypes.All)
        {
            properties[type.WireName()] = Payload(type);
            exactlyOne.Add((JsonNode)new JsonObject { ["required"] = new JsonArray(type.WireName()) });
        }

        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "ClinicalMessage",
            ["description"] = "One clinical message from a trial site: the envelope and exactly one payload.",
            ["type"] = "object",
            ["required"] = Names(EnvelopeRequired),
            ["properties"] = properties,
            ["oneOf"] = exactlyOne,
        };
    }

    private static JsonObject Payload(PayloadType type)
    {
        var properties = new JsonObject { ["patient_id"] = new JsonObject { ["type"] = "string", ["pattern"] = "^PT[A-Z0-9]{8}$", ["description"] = ClinicalIds.PatientIdShape } };
        var payload = new JsonObject { ["type"] = "object", ["required"] = Names(PayloadRequired[type]), ["properties"] = properties };
        switch (type)
        {
            case PayloadType.PatientDemographics:
                properties["age"] = Range("integer", DemographicRanges.Age);
                properties["gender"] = Enum(WireNames.Gender.Names);
                properties["weight_kg"] = Range("number", DemographicRanges.WeightKg);
                properties["height_cm"] = Range("number", DemographicRanges.HeightCm);
                properties["enrollment_date"] = new JsonObject { ["type"] = "string", ["pattern"] = ClinicalMessageParser.DatePattern };
                properties["trial_arm"] = Text();
                break;
            case PayloadType.VitalSigns:
                var atLeastOne = new JsonArray();
                foreach (var (name, range) in ClinicalMessageParser.VitalSignFields.Zip(VitalRanges))
                {
                    properties[name] = Range("number", range);
                    atLeastOne.Add((JsonNode)new JsonObject { ["required"] = new JsonArray(name) });
                }

                payload["anyOf"] = atLeastOne;
                payload["description"] = "At least one vital sign; one outside its possible range is set aside, the others stored.";
                break;
            case PayloadType.LabResults:
                properties["results"] = new JsonObject
                {
                    ["type"] = "array",
                    ["minItems"] = 1,
                    ["items"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["required"] = Names(LabResultRequired),
                        ["properties"] = new JsonObject
                        {
                            ["test_code"] = Text(),
                            ["value"] = new JsonObject { ["type"] = new JsonArray("number", "string"), ["description"] = "A number, or a text answer for a qualitative test." },
                            ["unit"] = Text(),
                            ["specimen"] = Text(),
                        },
                    },
                };
                break;
            case PayloadType.AdverseEvent:
                properties["event_term"] = Text();
                properties["severity"] = Enum(WireNames.Severity.Names);
                properties["serious"] = new JsonObject { ["type"] = "boolean" };
                properties["relation_to_study_drug"] = Enum(WireNames.DrugRelation.Names);
                properties["onset"] = Timestamp("When the event began; the message's timestamp when absent.");
                break;
        }

        return payload;
    }

    /// <summary>The possible range of each vital sign, in the order of <see cref="ClinicalMessageParser.VitalSignFields"/>.</summary>
    private static readonly ClinicalRange[] VitalRanges =
    [
        VitalSignRanges.SystolicBp, VitalSignRanges.DiastolicBp, VitalSignRanges.HeartRate, VitalSignRanges.TemperatureCelsius,
        VitalSignRanges.OxygenSaturation, VitalSignRanges.RespiratoryRate, VitalSignRanges.MeanArterialPressure, VitalSignRanges.EndTidalCo2,
    ];

    private static JsonObject Timestamp(string description) =>
        new() { ["type"] = "string", ["pattern"] = ClinicalMessageParser.TimestampPattern, ["description"] = description };

    private static JsonObject Range(string type, ClinicalRange range) =>
        new() { ["type"] = type, ["minimum"] = range.PossibleMin, ["maximum"] = range.PossibleMax };

    private static JsonObject Text() =>
        new() { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = ClinicalMessageParser.MaxTextLength };

    private static JsonObject Enum(IEnumerable<string> values) =>
        new() { ["type"] = "string", ["enum"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) };

    private static JsonArray Names(IEnumerable<string> names) => new([.. names.Select(n => (JsonNode)n)]);
}
