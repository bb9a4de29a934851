using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Tests.Validation;

/// <summary>The PHI guard: free text that looks like a direct identifier rejects the whole message, naming the field and the kind, never the text.</summary>
public sealed class DirectIdentifierTests
{
    [Theory]
    [InlineData("Rash, call jane.doe@example.org", "an e-mail address")]
    [InlineData("Contact +44 20 7946 0958", "a phone number")]
    [InlineData("phone (555) 123-4567", "a phone number")]
    [InlineData("SSN 078-05-1120", "a national identification number")]
    [InlineData("AB 12 34 56 C", "a national identification number")]
    [InlineData("DOB 1961-04-12", "a date of birth")]
    [InlineData("born on 12/04/1961", "a date of birth")]
    [InlineData("Seen by Dr Watson", "a name with a title")]
    [InlineData("Mrs. Hudson fell", "a name with a title")]
    public void Identifiers_are_found_by_kind(string text, string kind) => Assert.Equal(kind, DirectIdentifiers.Find(text));

    [Theory]
    [InlineData("Headache")]
    [InlineData("MS relapse")]
    [InlineData("Hypertension grade 2")]
    [InlineData("TREATMENT_A")]
    [InlineData("mg/dL")]
    [InlineData("10*9/L")]
    [InlineData("2345-7")]
    [InlineData("Dry skin")]
    [InlineData("Fall on 2026-03-01")]
    [InlineData("Dose 1000 mg")]
    public void Clinical_terms_units_and_codes_pass(string text) => Assert.Null(DirectIdentifiers.Find(text));

    [Fact]
    public void An_identifier_in_an_event_term_rejects_the_message_without_repeating_it()
    {
        var message = Samples.AdverseEvent("Rash, call jane.doe@example.org");

        var result = Parse(message);

        var violation = Assert.Single(result.Violations);
        Assert.Null(result.Message);
        Assert.Equal(("adverse_event.event_term", Rules.DirectIdentifier), (violation.Field, violation.Rule));
        Assert.DoesNotContain("jane", violation.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_identifier_in_one_lab_result_rejects_the_whole_message_not_only_that_result()
    {
        var message = Samples.Labs(("GLUC", 95, "mg/dL"), ("HGB", 13.5, "g/dL"));
        message["lab_results"]!["results"]![1]!["unit"] = "g/dL Dr Jones";

        var result = Parse(message);

        Assert.Null(result.Message);
        Assert.Contains(result.Violations, v => v.Field == "lab_results.results[1].unit" && v.Rule == Rules.DirectIdentifier);
    }

    [Fact]
    public void Stored_messages_are_not_judged_again()
    {
        // Accepted before the guard existed: replay reads it as it was accepted.
        var raw = Encoding.UTF8.GetBytes(Samples.AdverseEvent("Seen by Dr Watson").ToJsonString());

        var stored = ClinicalMessageParser.ParseStored(raw, Samples.Now, new AcceptedUnder("1+labs-2026.11.1", []));

        Assert.NotNull(stored.Message);
    }

    private static ParseResult Parse(JsonObject message) => ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(message.ToJsonString()), Samples.Now);
}
