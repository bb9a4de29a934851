using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using Json.Schema;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

/// <summary>
/// The published message contract (<see cref="ClinicalMessageSchema"/>) judged by a real JSON Schema validator against
/// the parser: it accepts every kind of valid message, and it rejects a message without one of its fields exactly when
/// the parser does, so the two cannot drift apart unnoticed.
/// </summary>
public sealed class ClinicalMessageSchemaTests
{
    private static readonly JsonSchema Schema = JsonSchema.FromText(ClinicalMessageSchema.Build().ToJsonString());

    /// <summary>One message of each payload type, with every optional field the contract has.</summary>
    private static List<JsonObject> Complete()
    {
        var vitals = Vitals();
        vitals["vital_signs"]!["mean_arterial_pressure"] = 93;
        vitals["vital_signs"]!["etco2"] = 38;
        var labs = Labs(("GLUC", 90, "mg/dL"), ("HGB", 13.5, "g/dL"));
        labs["lab_results"]!["results"]![0]!["specimen"] = "serum";
        return [vitals, Demographics(), labs, AdverseEvent()];
    }

    private static bool SchemaAccepts(JsonNode message) => Schema.Evaluate(JsonDocument.Parse(message.ToJsonString()).RootElement).IsValid;

    [Fact]
    public void Every_kind_of_valid_message_is_valid_under_the_schema()
    {
        var messages = Complete();
        Assert.Equal(
            PayloadTypes.All.Select(t => t.WireName()).Order(StringComparer.Ordinal),
            messages.Select(m => PayloadTypes.All.Select(t => t.WireName()).Single(m.ContainsKey)).Order(StringComparer.Ordinal));
        foreach (var message in messages)
        {
            AssertValid(Parse(message));
            var result = Schema.Evaluate(JsonDocument.Parse(message.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{message.ToJsonString()}: {JsonSerializer.Serialize(result)}");
        }
    }

    [Fact]
    public void The_schema_rejects_exactly_the_messages_the_parser_rejects_for_a_missing_field()
    {
        var disagreements = new List<string>();
        var dropped = 0;
        foreach (var message in Complete())
        {
            foreach (var (path, without) in EachFieldDropped(message))
            {
                dropped++;
                var parserAccepts = Parse(without).IsValid;
                if (parserAccepts != SchemaAccepts(without))
                {
                    disagreements.Add($"{path}: the parser {(parserAccepts ? "accepts" : "rejects")} the message without it, the schema does not");
                }
            }
        }

        Assert.Empty(disagreements);
        Assert.True(dropped >= 30, $"Only {dropped} fields were dropped.");
    }

    [Fact]
    public void A_message_with_no_payload_or_two_payloads_is_invalid_under_both()
    {
        var none = Vitals();
        none.Remove("vital_signs");
        var two = Vitals();
        two["adverse_event"] = AdverseEvent()["adverse_event"]!.DeepClone();
        var noVitalSign = Vitals();
        noVitalSign["vital_signs"] = new JsonObject { ["patient_id"] = "PT12AB34CD" };
        foreach (var message in new[] { none, two, noVitalSign })
        {
            Assert.False(Parse(message).IsValid);
            Assert.False(SchemaAccepts(message), message.ToJsonString());
        }
    }

    [Fact]
    public void The_required_lists_name_what_the_parser_calls_required()
    {
        // Each field the schema requires, dropped, is rejected by the parser with the rule 'required' at that field.
        foreach (var message in Complete())
        {
            var payload = PayloadTypes.All.Single(t => message.ContainsKey(t.WireName()));
            foreach (var field in ClinicalMessageSchema.EnvelopeRequired)
            {
                var without = message.DeepClone().AsObject();
                without.Remove(field);
                AssertViolation(Parse(without), field, Rules.Required);
            }

            foreach (var field in ClinicalMessageSchema.PayloadRequired[payload])
            {
                var without = message.DeepClone().AsObject();
                without[payload.WireName()]!.AsObject().Remove(field);
                AssertViolation(Parse(without), $"{payload.WireName()}.{field}", Rules.Required);
            }
        }
    }

    /// <summary>The message without each of its fields in turn (the envelope's, the payload's, a single lab result's), by path.</summary>
    private static IEnumerable<(string Path, JsonObject Without)> EachFieldDropped(JsonObject message)
    {
        foreach (var (name, _) in message.ToList())
        {
            var copy = message.DeepClone().AsObject();
            copy.Remove(name);
            yield return (name, copy);
        }

        var payloadName = PayloadTypes.All.Select(t => t.WireName()).Single(message.ContainsKey);
        foreach (var (name, _) in message[payloadName]!.AsObject().ToList())
        {
            var copy = message.DeepClone().AsObject();
            copy[payloadName]!.AsObject().Remove(name);
            yield return ($"{payloadName}.{name}", copy);
        }

        if (message[payloadName]!["results"] is JsonArray { Count: > 0 } results)
        {
            foreach (var (name, _) in results[0]!.AsObject().ToList())
            {
                var copy = message.DeepClone().AsObject();
                var lab = copy[payloadName]!["results"]!.AsArray();
                // One result only, so that what its missing field does decides the message.
                while (lab.Count > 1)
                {
                    lab.RemoveAt(1);
                }

                lab[0]!.AsObject().Remove(name);
                yield return ($"{payloadName}.results[0].{name}", copy);
            }
        }
    }
}
