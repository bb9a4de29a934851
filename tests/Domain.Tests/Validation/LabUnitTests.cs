using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

public sealed class LabUnitTests
{
    private static LabResult SingleResult(string code, double value, string unit)
    {
        var result = Parse(Labs((code, value, unit)));
        AssertValid(result);
        return Assert.Single(Assert.IsType<LabResults>(result.Message!.Payload).Results);
    }

    [Fact]
    public void Glucose_in_mmol_is_converted_to_mg_dl()
    {
        var glucose = SingleResult("GLUC", 5.5, "mmol/L");

        Assert.Equal("mg/dL", glucose.Unit);
        Assert.Equal(99.088, glucose.Value!.Value, precision: 3);
        Assert.Equal(5.5, glucose.OriginalValue);
        Assert.Equal("mmol/L", glucose.OriginalUnit);
    }

    [Fact]
    public void Creatinine_in_umol_is_converted_to_mg_dl()
    {
        var creatinine = SingleResult("CREAT", 88.42, "umol/L");

        Assert.Equal("mg/dL", creatinine.Unit);
        Assert.Equal(1.0, creatinine.Value!.Value, precision: 4);
        Assert.Equal(88.42, creatinine.OriginalValue);
        Assert.Equal("umol/L", creatinine.OriginalUnit);
    }

    [Fact]
    public void Value_in_the_standard_unit_is_kept_as_sent()
    {
        var glucose = SingleResult("GLUC", 92, "mg/dL");

        Assert.Equal(new LabResult("GLUC", 92, "mg/dL", 92, "mg/dL"), glucose);
    }

    [Theory]
    [InlineData("GLUC", 90, "mg/dl", 90)]
    [InlineData("GLUC", 90, "MG/DL", 90)]
    [InlineData("GLUC", 5, " mmol/l ", 90.08)]
    [InlineData("CREAT", 88.42, "µmol/L", 1.0)] // micro sign U+00B5
    [InlineData("CREAT", 88.42, "μmol/L", 1.0)] // Greek mu U+03BC
    [InlineData("WBC", 6.2, "x10^9/L", 6.2)]
    [InlineData("PLAT", 250, "K/uL", 250)]
    [InlineData("HGB", 140, "g/l", 14)]
    [InlineData("WBC", 6.2, "10*9/L", 6.2)] // UCUM
    [InlineData("TSH", 2.1, "m[IU]/L", 2.1)] // UCUM
    [InlineData("TSH", 2.1, "uIU/mL", 2.1)]
    [InlineData("HBA1C", 48, "mmol/mol", 6.543)] // IFCC to NGSP: 0.09148 x + 2.152
    [InlineData("PCO2", 5.3, "kPa", 39.753)]
    [InlineData("CA", 2.4, "mmol/L", 9.619)]
    [InlineData("HCT", 0.42, "L/L", 42)]
    public void Unit_spelling_variants_are_recognised(string code, double value, string unit, double standard)
    {
        var result = SingleResult(code, value, unit);

        Assert.Equal(standard, result.Value!.Value, precision: 3);
        Assert.Equal(unit.Trim(), result.OriginalUnit);
    }

    [Fact]
    public void Test_code_is_matched_without_case()
    {
        Assert.Equal("GLUC", SingleResult("gluc", 90, "mg/dL").TestCode);
    }

    [Fact]
    public void Unknown_test_code_is_stored_as_sent_and_flagged()
    {
        var result = Parse(Labs(("GLUC", 90, "mg/dL"), ("XYZ", 1.5, "mg/dL")));

        AssertValid(result);
        var unknown = Assert.IsType<LabResults>(result.Message!.Payload).Results[1];
        Assert.Equal(new LabResult("XYZ", 1.5, "mg/dL", 1.5, "mg/dL") { Flag = LabResultFlag.UnknownTest }, unknown);
        Assert.False(unknown.IsStandardised);
        var issue = Assert.Single(result.Message.ResultIssues);
        Assert.Equal(("lab_results.results[1].test_code", "unknown_test"), (issue.Field, issue.Rule));
    }

    [Theory]
    [InlineData("GLUC", "g/L")]
    [InlineData("CREAT", "furlongs")]
    [InlineData("K", "mg/dL")]
    public void Unknown_unit_for_the_test_is_stored_as_sent_and_flagged(string code, string unit)
    {
        const double value = 1;
        var result = Parse(Labs((code, value, unit)));

        AssertValid(result);
        var stored = Assert.Single(Assert.IsType<LabResults>(result.Message!.Payload).Results);
        Assert.Equal((value, unit, LabResultFlag.UnknownUnit), (stored.Value!.Value, stored.Unit, stored.Flag));
        Assert.Equal("unknown_unit", Assert.Single(result.Violations).Rule);
    }

    [Fact]
    public void Result_without_a_unit_is_flagged_unless_the_test_has_no_dimension()
    {
        var json = Labs(("GLUC", 90, "mg/dL"), ("INR", 1.1, "1"));
        json["lab_results"]!["results"]![0]!.AsObject().Remove("unit");
        json["lab_results"]!["results"]![1]!.AsObject().Remove("unit");

        var result = Parse(json);

        AssertValid(result);
        var results = Assert.IsType<LabResults>(result.Message!.Payload).Results;
        Assert.Equal(LabResultFlag.UnknownUnit, results[0].Flag);
        Assert.Equal(new LabResult("INR", 1.1, "1", 1.1, "1"), results[1]);
    }

    [Fact]
    public void Every_issue_of_a_panel_is_named_by_its_index_and_the_good_results_are_kept()
    {
        var result = Parse(Labs(("XYZ", 1, "mg/dL"), ("GLUC", 90, "mg/dL"), ("GLUC", 90, "stones"), ("K", 40, "mmol/L")));

        AssertValid(result);
        Assert.Equal(
            [("lab_results.results[0].test_code", "unknown_test"), ("lab_results.results[2].unit", "unknown_unit"), ("lab_results.results[3].value", "range")],
            result.Violations.Select(v => (v.Field, v.Rule)));
        Assert.Equal(["XYZ", "GLUC", "GLUC"], Assert.IsType<LabResults>(result.Message!.Payload).Results.Select(r => r.TestCode));
    }

    [Fact]
    public void Impossible_value_rejects_that_result_and_not_the_panel()
    {
        var result = Parse(Labs(("K", 40, "mmol/L"), ("GLUC", 90, "mg/dL")));

        AssertValid(result);
        Assert.Equal(["GLUC"], Assert.IsType<LabResults>(result.Message!.Payload).Results.Select(r => r.TestCode));
        var issue = Assert.Single(result.Message.ResultIssues);
        Assert.Equal(("lab_results.results[0].value", "range"), (issue.Field, issue.Rule));
    }

    [Fact]
    public void Panel_whose_every_result_is_rejected_is_rejected()
    {
        AssertViolation(Parse(Labs(("K", 40, "mmol/L"), ("GLUC", 1, "mg/dL"))), "lab_results.results[1].value", "range");
    }

    [Theory]
    [InlineData("KETONES", "negative", "NEGATIVE", 0.0)]
    [InlineData("KETONES", "Moderate", "2+", 3.0)] // an alias of the ordinal scale
    [InlineData("PROT", "TRACE", "TRACE", 1.0)]
    [InlineData("COLOR", "straw", "PALE YELLOW", null)] // nominal: no rank
    public void Qualitative_urine_result_is_stored_as_its_answer(string code, string sent, string answer, double? rank)
    {
        var json = Envelope("lab_results", new JsonObject
        {
            ["patient_id"] = "PT12AB34CD",
            ["results"] = new JsonArray(new JsonObject { ["test_code"] = code, ["specimen"] = "urine", ["value"] = sent }),
        });

        var result = Parse(json);

        AssertValid(result);
        var stored = Assert.Single(Assert.IsType<LabResults>(result.Message!.Payload).Results);
        Assert.Equal(new LabResult(code, rank, null, null, null) { Text = answer, Specimen = "URINE" }, stored);
    }

    [Fact]
    public void Urine_glucose_is_a_different_test_from_blood_glucose()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!["results"]!.AsArray().Add(new JsonObject { ["test_code"] = "GLUC", ["specimen"] = "URINE", ["value"] = "1+" });

        var results = Assert.IsType<LabResults>(Parse(json).Message!.Payload).Results;

        Assert.True(results[0].IsStandardisedBloodValue);
        Assert.Equal(("1+", "URINE", false), (results[1].Text, results[1].Specimen, results[1].IsStandardisedBloodValue));
    }

    [Fact]
    public void Qualitative_answer_not_in_the_scale_rejects_the_result()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!["results"]!.AsArray().Add(new JsonObject { ["test_code"] = "NITRITE", ["specimen"] = "URINE", ["value"] = "PURPLE" });

        var result = Parse(json);

        AssertValid(result);
        var issue = Assert.Single(result.Violations);
        Assert.Equal(("lab_results.results[1].value", "enum"), (issue.Field, issue.Rule));
    }

    [Fact]
    public void Unknown_test_with_a_text_answer_is_stored_as_text()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!["results"]!.AsArray().Add(new JsonObject { ["test_code"] = "SARSCOV2", ["value"] = "NOT DETECTED" });

        var stored = Assert.IsType<LabResults>(Parse(json).Message!.Payload).Results[1];

        Assert.Equal(new LabResult("SARSCOV2", null, null, null, null) { Text = "NOT DETECTED", Flag = LabResultFlag.UnknownTest }, stored);
    }

    [Fact]
    public void Empty_results_list_is_rejected()
    {
        AssertViolation(Parse(Labs()), "lab_results.results", "type");
    }

    [Fact]
    public void Missing_results_list_is_rejected()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!.AsObject().Remove("results");

        AssertViolation(Parse(json), "lab_results.results", "required");
    }

    [Fact]
    public void Quantitative_value_sent_as_a_number_in_text_is_read_as_the_number()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!["results"]![0]!["value"] = "90";

        Assert.Equal(90, Assert.Single(Assert.IsType<LabResults>(Parse(json).Message!.Payload).Results).Value);
    }

    [Fact]
    public void Quantitative_value_sent_as_words_is_rejected()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!["results"]![0]!["value"] = "high";

        AssertViolation(Parse(json), "lab_results.results[0].value", "type");
    }
}
