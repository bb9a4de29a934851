using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

/// <summary>JSON shape, types, required fields and identifiers.</summary>
public sealed class ShapeTests
{
    [Fact]
    public void Escaped_text_reads_like_plain_text()
    {
        // Every character of the short strings written as a \uXXXX escape: the same message as the plain spelling.
        var plain = AdverseEvent();
        var escaped = plain.ToJsonString();
        foreach (var text in new[] { (string)plain["message_id"]!, "2026-03-01T11:00:00Z", "Phase II", "MODERATE", "POSSIBLE", "2026-02-28T22:15:00Z" })
        {
            escaped = escaped.Replace($"\"{text}\"", $"\"{string.Concat(text.Select(c => $"\\u{(int)c:x4}"))}\"");
        }

        Assert.DoesNotContain("MODERATE", escaped);
        Assert.Equal(Parse(plain).Message!.MessageId, Parse(escaped).Message!.MessageId);
        Assert.Equal(Parse(plain).Message!.Timestamp, Parse(escaped).Message!.Timestamp);
        Assert.Equal(Parse(plain).Message!.Payload, Parse(escaped).Message!.Payload);
    }

    [Fact]
    public void Codes_are_read_in_any_case_and_with_spaces_for_underscores()
    {
        var json = AdverseEvent();
        json["study_phase"] = " phase ii ";
        json["adverse_event"]!["severity"] = "moderate";
        json["adverse_event"]!["relation_to_study_drug"] = "Not related";
        var labs = Labs(("gluc", 90, "mg/dl"));

        var message = Parse(json).Message!;
        Assert.Equal(StudyPhase.PhaseII, message.StudyPhase);
        Assert.Equal(new AdverseEvent("PT12AB34CD", "Headache", Severity.Moderate, false, DrugRelation.NotRelated,
            new DateTimeOffset(2026, 2, 28, 22, 15, 0, TimeSpan.Zero)), message.Payload);
        Assert.Equal("GLUC", Assert.Single(((LabResults)Parse(labs).Message!.Payload).Results).TestCode);
    }

    [Fact]
    public void Number_sent_as_a_string_is_rejected()
    {
        var json = Vitals();
        json["vital_signs"]!["heart_rate"] = "120";

        AssertViolation(Parse(json), "vital_signs.heart_rate", "type");
    }

    [Fact]
    public void Boolean_sent_for_a_number_is_rejected()
    {
        var json = Vitals();
        json["vital_signs"]!["systolic_bp"] = true;

        AssertViolation(Parse(json), "vital_signs.systolic_bp", "type");
    }

    [Fact]
    public void Fractional_age_is_rejected()
    {
        var json = Demographics();
        json["patient_demographics"]!["age"] = 54.5;

        AssertViolation(Parse(json), "patient_demographics.age", "type");
    }

    [Fact]
    public void Text_sent_for_a_boolean_is_rejected()
    {
        var json = AdverseEvent();
        json["adverse_event"]!["serious"] = "yes";

        AssertViolation(Parse(json), "adverse_event.serious", "type");
    }

    [Fact]
    public void Payload_that_is_not_an_object_is_rejected()
    {
        var json = Vitals();
        json["vital_signs"] = new JsonArray(1, 2);

        AssertViolation(Parse(json), "vital_signs", "type");
    }

    [Theory]
    [InlineData("message_id")]
    [InlineData("timestamp")]
    [InlineData("study_phase")]
    [InlineData("site_id")]
    public void Missing_envelope_field_is_rejected(string field)
    {
        var json = Vitals();
        json.Remove(field);

        AssertViolation(Parse(json), field, "required");
    }

    [Fact]
    public void Null_counts_as_missing()
    {
        var json = Vitals();
        json["site_id"] = null;

        AssertViolation(Parse(json), "site_id", "required");
    }

    [Theory]
    [InlineData("patient_demographics", "patient_id")]
    [InlineData("patient_demographics", "age")]
    [InlineData("patient_demographics", "gender")]
    [InlineData("patient_demographics", "enrollment_date")]
    [InlineData("patient_demographics", "trial_arm")]
    [InlineData("adverse_event", "patient_id")]
    [InlineData("adverse_event", "event_term")]
    [InlineData("adverse_event", "severity")]
    [InlineData("adverse_event", "serious")]
    [InlineData("adverse_event", "relation_to_study_drug")]
    [InlineData("vital_signs", "patient_id")]
    public void Missing_payload_field_is_rejected(string payload, string field)
    {
        var json = payload switch
        {
            "patient_demographics" => Demographics(),
            "adverse_event" => AdverseEvent(),
            _ => Vitals(),
        };
        json[payload]!.AsObject().Remove(field);

        AssertViolation(Parse(json), $"{payload}.{field}", "required");
    }

    [Fact]
    public void Vital_signs_without_any_measurement_are_rejected()
    {
        var json = Envelope("vital_signs", new JsonObject { ["patient_id"] = "PT12AB34CD", ["heart_rate"] = null });

        AssertViolation(Parse(json), "vital_signs", "required");
    }

    [Fact]
    public void Two_payloads_are_rejected()
    {
        var json = Vitals();
        json["adverse_event"] = AdverseEvent()["adverse_event"]!.DeepClone();

        var result = Parse(json);

        AssertViolation(result, "$", "one_payload");
        Assert.Contains("vital_signs", result.Violations.Single(v => v.Rule == Rules.OnePayload).Message);
        Assert.Contains("adverse_event", result.Violations.Single(v => v.Rule == Rules.OnePayload).Message);
    }

    [Fact]
    public void Message_without_payload_is_rejected()
    {
        var json = Vitals();
        json.Remove("vital_signs");

        AssertViolation(Parse(json), "$", "one_payload");
    }

    [Theory]
    [InlineData("{\"message_id\":")]
    [InlineData("{'message_id':'x'}")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("{\"a\":1}{\"b\":2}")]
    public void Malformed_json_is_rejected(string body)
    {
        var result = Parse(body);

        AssertViolation(result, "$", "json");
        Assert.Null(result.MessageId);
    }

    [Fact]
    public void Body_that_is_not_utf8_is_rejected_as_json()
    {
        var result = ClinicalMessageParser.Parse(new byte[] { 0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D }, Now);

        AssertViolation(result, "$", "json");
    }

    [Fact]
    public void Body_with_a_latin1_byte_in_a_string_is_rejected_as_json()
    {
        var json = Encoding.UTF8.GetBytes(AdverseEvent("Nausee").ToJsonString());
        json[Array.IndexOf(json, (byte)'s') + 1] = 0xE9; // "Naus\xe9e", as a Latin-1 client would send "Nausée"

        var result = ClinicalMessageParser.Parse(json, Now);

        AssertViolation(result, "$", "json");
        Assert.Null(result.MessageId);
    }

    [Theory]
    [InlineData("\\ud800", "adverse_event.event_term")]
    [InlineData("\\udc00x", "adverse_event.event_term")]
    [InlineData("ok\\ud83e", "adverse_event.event_term")]
    public void Lone_surrogate_escape_is_rejected_naming_the_field(string term, string field)
    {
        var result = Parse(AdverseEvent().ToJsonString().Replace("\"Headache\"", $"\"{term}\""));

        AssertViolation(result, field, "json");
        Assert.Null(result.MessageId);
    }

    [Fact]
    public void Lone_surrogate_escape_in_a_key_is_rejected()
    {
        var result = Parse(Vitals().ToJsonString().Replace("\"heart_rate\"", "\"\\ud800\""));

        AssertViolation(result, "vital_signs", "json");
    }

    [Theory]
    [InlineData("message_id", "", "message_id")]
    [InlineData("site_id", "", "site_id")]
    [InlineData("heart_rate", "vital_signs", "vital_signs.heart_rate")]
    [InlineData("patient_id", "vital_signs", "vital_signs.patient_id")]
    public void Duplicate_key_is_rejected_naming_the_field(string key, string parent, string field)
    {
        // The second copy after the first, as the outside tester sent it: the last must not silently win.
        var json = Vitals();
        var owner = parent.Length == 0 ? json : json[parent]!.AsObject();
        var text = json.ToJsonString();
        var first = $"\"{key}\":{owner[key]!.ToJsonString()}";
        var body = text.Replace(first, $"{first},\"{key}\":{(key == "heart_rate" ? "80" : "\"SITE002\"")}");

        var result = Parse(body);

        Assert.Equal([(field, "duplicate_key")], result.Violations.Select(v => (v.Field, v.Rule)));
        Assert.Null(result.MessageId);
        Assert.Null(result.SiteId);
        Assert.Null(result.PatientId);
    }

    [Fact]
    public void Duplicate_key_inside_a_list_is_named_with_its_index()
    {
        var body = Labs(("GLUC", 90, "mg/dL"), ("HGB", 14, "g/dL")).ToJsonString().Replace("\"unit\":\"g/dL\"", "\"unit\":\"g/dL\",\"unit\":\"g/L\"");

        var result = Parse(body);

        Assert.Equal([("lab_results.results[1].unit", "duplicate_key")], result.Violations.Select(v => (v.Field, v.Rule)));
    }

    [Fact]
    public void Key_spelled_once_plainly_and_once_escaped_is_a_duplicate()
    {
        var body = Vitals().ToJsonString().Replace("\"heart_rate\":72", "\"heart_rate\":72,\"heart_\\u0072ate\":300");

        AssertViolation(Parse(body), "vital_signs.heart_rate", "duplicate_key");
    }

    [Theory]
    [InlineData("\"heart_rate\":72,\"heart_rate\":80")]
    [InlineData("\"heart_rate\":72,\"heart_\\u0072ate\":80")]
    public void Stored_message_with_a_duplicate_key_reads_as_it_was_acknowledged(string duplicated)
    {
        // Messages acknowledged before duplicate keys were refused must still replay: the last copy counts, as it did then.
        var body = Vitals().ToJsonString().Replace("\"heart_rate\":72", duplicated);
        Assert.Contains("duplicate_key", Parse(body).Violations.Select(v => v.Rule));

        var stored = ClinicalMessageParser.ParseStored(Encoding.UTF8.GetBytes(body), Now, acceptedUnder: null);

        Assert.Empty(stored.Violations);
        Assert.Equal(80, ((VitalSigns)stored.Message!.Payload).HeartRate);
    }

    [Fact]
    public void Key_repeated_many_times_is_reported_a_bounded_number_of_times()
    {
        var body = "{" + string.Join(",", Enumerable.Repeat("\"k\":0", 60_000)) + "}";

        var result = Parse(body);

        Assert.Equal(JsonDefects.MaxReported, result.Violations.Count);
        Assert.All(result.Violations, v => Assert.Equal(("k", "duplicate_key"), (v.Field, v.Rule)));
    }

    [Fact]
    public void Same_key_in_different_objects_is_not_a_duplicate()
    {
        var json = Labs(("GLUC", 90, "mg/dL"), ("HGB", 14, "g/dL"));

        AssertValid(Parse(json));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("\"vital_signs\"")]
    public void Json_that_is_not_an_object_is_rejected(string body)
    {
        AssertViolation(Parse(body), "$", "type");
    }

    [Fact]
    public void Deeply_nested_json_is_rejected_without_throwing()
    {
        var body = new string('[', 1000) + new string(']', 1000);

        AssertViolation(Parse(body), "$", "json");
    }

    [Fact]
    public void Unicode_event_term_is_accepted_as_sent()
    {
        const string term = "Übelkeit – 吐き気 – тошнота 🤢";

        var result = Parse(AdverseEvent(term));

        AssertValid(result);
        Assert.Equal(term, Assert.IsType<AdverseEvent>(result.Message!.Payload).EventTerm);
    }

    [Fact]
    public void Escaped_unicode_event_term_is_decoded()
    {
        var json = AdverseEvent().ToJsonString().Replace("\"Headache\"", "\"Na\\u00fcsea \\ud83e\\udd22\"");

        var result = Parse(json);

        AssertValid(result);
        Assert.Equal("Naüsea 🤢", Assert.IsType<AdverseEvent>(result.Message!.Payload).EventTerm);
    }

    [Theory]
    [InlineData("Nau\u0000sea")]
    [InlineData("Nau\u0007sea")]
    [InlineData("Nau\nsea")]
    [InlineData("Nau\u001bsea")]
    [InlineData("Nau\u0085sea")]
    public void Control_characters_in_text_are_rejected(string term)
    {
        AssertViolation(Parse(AdverseEvent(term)), "adverse_event.event_term", "format");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Blank_text_is_rejected(string term)
    {
        AssertViolation(Parse(AdverseEvent(term)), "adverse_event.event_term", "format");
    }

    [Fact]
    public void Text_longer_than_the_limit_is_rejected()
    {
        AssertValid(Parse(AdverseEvent(new string('é', ClinicalMessageParser.MaxTextLength))));
        AssertViolation(Parse(AdverseEvent(new string('é', ClinicalMessageParser.MaxTextLength + 1))), "adverse_event.event_term", "format");
    }

    [Theory]
    [InlineData("pt12ab34cd")]
    [InlineData("PT123")]
    [InlineData("PT12AB34CDE")]
    [InlineData("XX12AB34CD")]
    [InlineData("PT12AB-4CD")]
    [InlineData("")]
    public void Malformed_patient_id_is_rejected(string patientId)
    {
        var json = Vitals();
        json["vital_signs"]!["patient_id"] = patientId;

        AssertViolation(Parse(json), "vital_signs.patient_id", "format");
    }

    [Fact]
    public void Patient_id_as_a_number_is_rejected()
    {
        var json = Vitals();
        json["vital_signs"]!["patient_id"] = 12345678;

        AssertViolation(Parse(json), "vital_signs.patient_id", "format");
    }

    [Theory]
    [InlineData("site001")]
    [InlineData("S1")]
    [InlineData("SITE 001")]
    public void Malformed_site_id_is_rejected(string siteId)
    {
        var json = Vitals();
        json["site_id"] = siteId;

        AssertViolation(Parse(json), "site_id", "format");
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public void Message_id_must_be_a_non_empty_uuid(string messageId)
    {
        var json = Vitals();
        json["message_id"] = messageId;

        var result = Parse(json);

        AssertViolation(result, "message_id", "format");
        Assert.Null(result.MessageId);
    }

    [Fact]
    public void Every_violation_is_reported_at_once()
    {
        var json = Vitals();
        json["timestamp"] = "2026-03-01T13:00:00Z";
        json["study_phase"] = "Phase 0";
        json.Remove("site_id");
        json["vital_signs"]!["heart_rate"] = 400;
        json["vital_signs"]!["temperature_celsius"] = "hot";
        json["vital_signs"]!["diastolic_bp"] = 125;

        var result = Parse(json);

        Assert.False(result.IsValid);
        (string Field, string Rule)[] expected =
        [
            ("site_id", "required"),
            ("study_phase", "enum"),
            ("timestamp", "future"),
            ("vital_signs.diastolic_bp", "consistency"),
            ("vital_signs.heart_rate", "range"),
            ("vital_signs.temperature_celsius", "type"),
        ];
        Assert.Equal(expected, result.Violations.Select(v => (v.Field, v.Rule)).Order());
    }

    [Fact]
    public void Rejected_message_keeps_the_identity_it_could_read()
    {
        var json = Vitals();
        json["vital_signs"]!["heart_rate"] = "fast";

        var result = Parse(json);

        Assert.False(result.IsValid);
        Assert.Equal(Guid.Parse((string)json["message_id"]!), result.MessageId);
        Assert.Equal("SITE001", result.SiteId);
        Assert.Equal("PT12AB34CD", result.PatientId);
        Assert.Equal(PayloadType.VitalSigns, result.PayloadType);
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        var json = Vitals();
        json["comment"] = "entered late";
        json["vital_signs"]!["device"] = "monitor-7";

        AssertValid(Parse(json));
    }
}
