using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Tests.Validation;

/// <summary>The one table of enum wire names: every value has a name, and every name reads back as its value when sent and when stored.</summary>
public sealed class WireNameTests
{
    [Fact]
    public void Every_value_has_one_name_that_reads_back_as_that_value()
    {
        AssertRoundTrip(WireNames.StudyPhase);
        AssertRoundTrip(WireNames.Gender);
        AssertRoundTrip(WireNames.Severity);
        AssertRoundTrip(WireNames.DrugRelation);
    }

    [Theory]
    [InlineData("female", Gender.Female)]
    [InlineData(" MALE ", Gender.Male)]
    [InlineData("o", Gender.Other)]
    [InlineData("U", Gender.Unknown)]
    public void Aliases_read_as_their_value(string sent, Gender expected)
    {
        Assert.True(WireNames.Gender.TryParse(sent, out var gender));
        Assert.Equal(expected, gender);
    }

    [Fact]
    public void A_space_stands_for_an_underscore_and_nothing_else_matches()
    {
        Assert.True(WireNames.DrugRelation.TryParse("not related", out var relation));
        Assert.Equal(DrugRelation.NotRelated, relation);
        Assert.False(WireNames.DrugRelation.TryParse("notrelated", out _));
        Assert.Throws<InvalidDataException>(() => WireNames.Severity.Parse("FATAL"));
    }

    [Fact]
    public void Every_name_is_accepted_in_a_message_and_read_back_from_bronze_as_the_same_value()
    {
        foreach (var gender in Enum.GetValues<Gender>())
        {
            var message = Samples.Demographics();
            message["patient_demographics"]!["gender"] = WireNames.Gender.Of(gender).ToLowerInvariant();
            Assert.Equal(gender, ((PatientDemographics)AcceptedAndStored(message).Payload).Gender);
        }

        foreach (var phase in Enum.GetValues<StudyPhase>())
        {
            var message = Samples.Vitals();
            message["study_phase"] = WireNames.StudyPhase.Of(phase);
            Assert.Equal(phase, AcceptedAndStored(message).StudyPhase);
        }

        foreach (var (severity, relation) in Enum.GetValues<Severity>().SelectMany(s => Enum.GetValues<DrugRelation>().Select(r => (s, r))))
        {
            var message = Samples.AdverseEvent();
            message["adverse_event"]!["severity"] = WireNames.Severity.Of(severity);
            message["adverse_event"]!["relation_to_study_drug"] = WireNames.DrugRelation.Of(relation);
            var stored = (AdverseEvent)AcceptedAndStored(message).Payload;
            Assert.Equal((severity, relation), (stored.Severity, stored.RelationToStudyDrug));
        }
    }

    [Fact]
    public void An_unknown_name_is_rejected_naming_the_field_and_listing_the_names()
    {
        var message = Samples.Demographics();
        message["patient_demographics"]!["gender"] = "X";

        var violation = Assert.Single(ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(message.ToJsonString()), Samples.Now).Violations);

        Assert.Equal(("patient_demographics.gender", Rules.Enum), (violation.Field, violation.Rule));
        Assert.Contains("M, F, OTHER, UNKNOWN", violation.Message, StringComparison.Ordinal);
    }

    private static void AssertRoundTrip<T>(WireNameTable<T> table)
        where T : struct, Enum
    {
        Assert.Equal(Enum.GetValues<T>().Length, table.Names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        foreach (var value in Enum.GetValues<T>())
        {
            Assert.Equal(value, table.Parse(table.Of(value)));
        }
    }

    /// <summary>The message as accepted, then as read back from its bronze line: both must agree.</summary>
    private static ClinicalMessage AcceptedAndStored(System.Text.Json.Nodes.JsonObject message)
    {
        var raw = Encoding.UTF8.GetBytes(message.ToJsonString());
        var accepted = ClinicalMessageParser.Parse(raw, Samples.Now);
        Assert.Empty(accepted.Violations);
        var stored = ClinicalMessageParser.ParseStored(raw, Samples.Now, AcceptedUnder.Now(accepted.Message!)).Message!;
        Assert.Equal((accepted.Message!.StudyPhase, accepted.Message.Payload), (stored.StudyPhase, stored.Payload));
        return stored;
    }
}
