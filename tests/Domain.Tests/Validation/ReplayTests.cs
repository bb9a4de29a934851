using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

/// <summary>
/// A stored message reads back as it was accepted, whatever today's rules say: values set aside then stay out, values
/// judged by rules tightened since stay in, and how it was accepted travels in its bronze line.
/// </summary>
public sealed class ReplayTests
{
    /// <summary>Rules older than today's, under which a value today calls impossible was accepted.</summary>
    private static readonly AcceptedUnder Looser = new("0+labs-2025.1.0", []);

    [Fact]
    public void A_vital_sign_set_aside_on_acceptance_stays_out_and_the_others_stay_in()
    {
        var json = Vitals();
        json["vital_signs"]!["heart_rate"] = 900;
        var accepted = Parse(json).Message!;
        Assert.Equal(["vital_signs.heart_rate"], accepted.SetAside);

        var replayed = Replay(json, AcceptedUnder.Now(accepted));

        Assert.Equal(accepted.Payload, replayed.Payload);
        Assert.Null(((VitalSigns)replayed.Payload).HeartRate);
        Assert.Equal(accepted.SetAside, replayed.SetAside);
    }

    [Fact]
    public void A_lab_result_set_aside_on_acceptance_stays_out_and_the_panel_keeps_its_order()
    {
        var json = Labs(("GLUC", 90, "mg/dL"), ("HGB", 900, "g/dL"), ("K", 4.1, "mmol/L"));
        var accepted = Parse(json).Message!;
        Assert.Equal(["lab_results.results[1]"], accepted.SetAside);

        var replayed = Replay(json, AcceptedUnder.Now(accepted));

        Assert.Equal(["GLUC", "K"], ((LabResults)replayed.Payload).Results.Select(r => r.TestCode));
        Assert.Equal(((LabResults)accepted.Payload).Results, ((LabResults)replayed.Payload).Results);
    }

    [Fact]
    public void A_value_accepted_under_looser_rules_replays_although_today_it_would_be_rejected()
    {
        var json = Vitals();
        json["vital_signs"] = new JsonObject { ["patient_id"] = "PT12AB34CD", ["heart_rate"] = 900 };
        AssertViolation(Parse(json), "vital_signs.heart_rate", Rules.Range);

        Assert.Equal(900, ((VitalSigns)Replay(json, Looser).Payload).HeartRate);
    }

    [Fact]
    public void Timestamps_and_consistency_are_not_judged_again()
    {
        var json = Vitals();
        json["timestamp"] = Now.AddHours(1).ToString("O");
        json["vital_signs"]!["diastolic_bp"] = 130;
        Assert.False(Parse(json).IsValid);

        var replayed = Replay(json, Looser);

        Assert.Equal(Now.AddHours(1), replayed.Timestamp);
        Assert.Equal(130, ((VitalSigns)replayed.Payload).DiastolicBp);
    }

    [Fact]
    public void A_message_whose_shape_cannot_be_read_is_still_refused()
    {
        var json = Vitals();
        json["vital_signs"]!["heart_rate"] = "fast";

        var stored = ClinicalMessageParser.ParseStored(Encoding.UTF8.GetBytes(json.ToJsonString()), Now, Looser);

        AssertViolation(stored, "vital_signs.heart_rate", Rules.Type);
    }

    [Fact]
    public void A_line_written_before_rules_were_recorded_reads_by_todays_rules_or_else_as_sent()
    {
        var valid = Vitals();
        valid["vital_signs"]!["heart_rate"] = 900;
        var today = Parse(valid).Message!;
        Assert.Equal(today.Payload, Replay(valid, acceptedUnder: null).Payload);

        var rejectedToday = Vitals();
        rejectedToday["vital_signs"] = new JsonObject { ["patient_id"] = "PT12AB34CD", ["heart_rate"] = 900 };
        Assert.Equal(900, ((VitalSigns)Replay(rejectedToday, acceptedUnder: null).Payload).HeartRate);
    }

    [Fact]
    public void The_bronze_line_carries_the_rules_and_what_was_set_aside()
    {
        var accepted = new AcceptedUnder(ClinicalMessageParser.RulesVersion, ["vital_signs.heart_rate", "lab_results.results[3]"]);
        var line = new BronzeRecord(Guid.NewGuid(), Now, "{}"u8.ToArray(), []) { AcceptedUnder = accepted }.ToLine();

        Assert.True(BronzeRecord.TryParse(line.AsSpan(0, line.Length - 1), out var read));
        Assert.Equal(accepted.Rules, read.AcceptedUnder!.Rules);
        Assert.Equal(accepted.SetAside, read.AcceptedUnder.SetAside);
        Assert.True(BronzeRecord.TryParse(new BronzeRecord(null, Now, "{}"u8.ToArray(), []).ToLine().AsSpan()[..^1], out var unrecorded));
        Assert.Null(unrecorded.AcceptedUnder);
    }

    private static ClinicalMessage Replay(JsonNode json, AcceptedUnder? acceptedUnder)
    {
        var result = ClinicalMessageParser.ParseStored(Encoding.UTF8.GetBytes(json.ToJsonString()), Now, acceptedUnder);
        AssertValid(result);
        return result.Message!;
    }
}
