using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using static ClinicalTrials.Domain.Tests.Validation.Samples;

namespace ClinicalTrials.Domain.Tests.Validation;

public sealed class LabCatalogueTests
{
    [Fact]
    public void Catalogue_holds_well_over_a_hundred_tests_of_every_category()
    {
        Assert.True(LabCatalogue.Tests.Count >= 140, $"{LabCatalogue.Tests.Count} tests");
        Assert.Equal(
            ["blood_gas", "chemistry", "coagulation", "endocrine", "hematology", "immunology", "urinalysis", "vitamins"],
            LabCatalogue.Tests.Select(t => t.Category).Distinct().Order());
        Assert.Contains(LabCatalogue.Tests, t => t.Scale == LabScale.Ordinal);
        Assert.Contains(LabCatalogue.Tests, t => t.Scale == LabScale.Nominal);
        Assert.Matches(@"^\d{4}\.\d{1,2}\.\d+$", LabCatalogue.Version);
    }

    [Fact]
    public void Every_quantitative_test_has_its_reference_range_inside_its_possible_limits()
    {
        foreach (var test in LabCatalogue.Tests.Where(t => t.Scale == LabScale.Quantitative))
        {
            var range = test.Range!;
            Assert.True(range.PossibleMin <= range.NormalMin && range.NormalMax <= range.PossibleMax, $"{test.Code}: reference outside possible");
            Assert.True(test.TryStandardise(1, test.StandardUnit!, out var same) && same == 1, $"{test.Code}: standard unit is not identity");
        }
    }

    [Fact]
    public void Nearly_every_test_has_a_loinc_code_of_the_right_shape()
    {
        Assert.True(LabCatalogue.Tests.Count(t => t.Loinc is null) <= 5);
        Assert.All(LabCatalogue.Tests.Where(t => t.Loinc is not null), t => Assert.Matches(@"^\d{1,6}-\d$", t.Loinc));
    }

    [Fact]
    public void Every_loinc_code_has_a_valid_check_digit()
    {
        // LOINC's check digit is the Luhn (mod 10) digit of the part before the dash: a mistyped code fails it.
        foreach (var test in LabCatalogue.Tests.Where(t => t.Loinc is not null))
        {
            var (body, check) = (test.Loinc!.Split('-')[0], test.Loinc.Split('-')[1][0] - '0');
            Assert.True(LuhnCheckDigit(body) == check, $"{test.Code} {test.Loinc}: check digit should be {LuhnCheckDigit(body)}");
        }
    }

    private static int LuhnCheckDigit(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d *= 2;
                d = d > 9 ? d - 9 : d;
            }

            sum += d;
        }

        return (10 - (sum % 10)) % 10;
    }

    /// <summary>The 26 laboratory columns of the PhysioNet 2019 challenge, in the units its README documents.</summary>
    public static readonly TheoryData<string, string, double, string> PhysioNetLabs = new()
    {
        { "BaseExcess", "BASEEXC", -3, "mmol/L" }, { "HCO3", "BICARB", 24, "mmol/L" }, { "FiO2", "FIO2", 0.5, "1" },
        { "pH", "PH", 7.38, "[pH]" }, { "PaCO2", "PCO2", 41, "mm[Hg]" }, { "SaO2", "OXYSAT", 96, "%" }, { "AST", "AST", 35, "IU/L" },
        { "BUN", "BUN", 18, "mg/dL" }, { "Alkalinephos", "ALP", 90, "IU/L" }, { "Calcium", "CA", 8.9, "mg/dL" },
        { "Chloride", "CL", 104, "mmol/L" }, { "Creatinine", "CREAT", 1.1, "mg/dL" }, { "Bilirubin_direct", "BILDIR", 0.3, "mg/dL" },
        { "Glucose", "GLUC", 130, "mg/dL" }, { "Lactate", "LACT", 1.8, "mmol/L" }, { "Magnesium", "MG", 2.0, "mg/dL" },
        { "Phosphate", "PHOS", 3.4, "mg/dL" }, { "Potassium", "K", 4.1, "mmol/L" }, { "Bilirubin_total", "BILI", 0.9, "mg/dL" },
        { "TroponinI", "TROPONI", 0.05, "ng/mL" }, { "Hct", "HCT", 31, "%" }, { "Hgb", "HGB", 10.4, "g/dL" }, { "PTT", "APTT", 32, "s" },
        { "WBC", "WBC", 11.2, "10^3/uL" }, { "Fibrinogen", "FIBRINO", 310, "mg/dL" }, { "Platelets", "PLAT", 210, "10^3/uL" },
    };

    [Theory]
    [MemberData(nameof(PhysioNetLabs))]
    public void Every_physionet_2019_lab_value_is_stored_standardised(string column, string code, double value, string unit)
    {
        var result = Parse(Labs((code, value, unit)));

        AssertValid(result);
        var stored = Assert.Single(Assert.IsType<LabResults>(result.Message!.Payload).Results);
        Assert.True(stored.IsStandardisedBloodValue, $"{column} as {code} in {unit}");
        Assert.Empty(result.Message.ResultIssues);
    }

    [Fact]
    public void Demographics_without_weight_and_height_are_accepted()
    {
        var json = Demographics();
        json["patient_demographics"]!.AsObject().Remove("weight_kg");
        json["patient_demographics"]!.AsObject().Remove("height_cm");

        var demographics = Assert.IsType<PatientDemographics>(Parse(json).Message!.Payload);

        Assert.Equal((null, null), (demographics.WeightKg, demographics.HeightCm));
    }

    [Fact]
    public void Catalogue_answers_the_specimen_it_was_asked_for()
    {
        Assert.True(LabCatalogue.TryFind("ph", "serum", out var blood));
        Assert.True(LabCatalogue.TryFind("PH", "Urine", out var urine));
        Assert.Equal(("2744-1", "5803-2"), (blood.Loinc, urine.Loinc));
        Assert.False(LabCatalogue.TryFind("KETONES", null, out _));
    }
}
