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
        Assert.Equal(99.088, glucose.Value, precision: 3);
        Assert.Equal(5.5, glucose.OriginalValue);
        Assert.Equal("mmol/L", glucose.OriginalUnit);
    }

    [Fact]
    public void Creatinine_in_umol_is_converted_to_mg_dl()
    {
        var creatinine = SingleResult("CREAT", 88.42, "umol/L");

        Assert.Equal("mg/dL", creatinine.Unit);
        Assert.Equal(1.0, creatinine.Value, precision: 4);
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
    public void Unit_spelling_variants_are_recognised(string code, double value, string unit, double standard)
    {
        var result = SingleResult(code, value, unit);

        Assert.Equal(standard, result.Value, precision: 3);
        Assert.Equal(unit.Trim(), result.OriginalUnit);
    }

    [Fact]
    public void Test_code_is_matched_without_case()
    {
        Assert.Equal("GLUC", SingleResult("gluc", 90, "mg/dL").TestCode);
    }

    [Fact]
    public void Unknown_test_code_is_rejected()
    {
        AssertViolation(Parse(Labs(("GLUC", 90, "mg/dL"), ("XYZ", 1, "mg/dL"))), "lab_results.results[1].test_code", "unknown_test");
    }

    [Theory]
    [InlineData("GLUC", "g/L")]
    [InlineData("CREAT", "furlongs")]
    [InlineData("K", "mg/dL")]
    public void Unknown_unit_for_the_test_is_rejected(string code, string unit)
    {
        AssertViolation(Parse(Labs((code, 1, unit))), "lab_results.results[0].unit", "unknown_unit");
    }

    [Fact]
    public void Every_bad_result_of_a_list_is_named_by_its_index()
    {
        var result = Parse(Labs(("XYZ", 1, "mg/dL"), ("GLUC", 90, "mg/dL"), ("GLUC", 90, "stones")));

        AssertViolation(result, "lab_results.results[0].test_code", "unknown_test");
        AssertViolation(result, "lab_results.results[2].unit", "unknown_unit");
        Assert.Equal(2, result.Violations.Count);
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
    public void Lab_value_sent_as_text_is_rejected()
    {
        var json = Labs(("GLUC", 90, "mg/dL"));
        json["lab_results"]!["results"]![0]!["value"] = "90";

        AssertViolation(Parse(json), "lab_results.results[0].value", "type");
    }
}
