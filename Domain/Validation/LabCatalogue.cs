namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// One lab test (CDISC LBTESTCD code): its standard unit, the other units sites send with the factor that
/// converts them to the standard unit, and its range in the standard unit.
/// </summary>
public sealed record LabTest(string Code, string Name, string StandardUnit, IReadOnlyDictionary<string, double> Conversions, ClinicalRange Range)
{
    /// <summary>Converts <paramref name="value"/> in <paramref name="unit"/> to the standard unit; false for an unknown unit.</summary>
    public bool TryStandardise(double value, string unit, out double standardValue)
    {
        // Most sites send the units as written here: only the others pay for normalising the spelling.
        if (Conversions.TryGetValue(unit, out var factor) || Conversions.TryGetValue(LabCatalogue.NormaliseUnit(unit), out factor))
        {
            standardValue = Math.Round(value * factor, 4);
            return true;
        }

        standardValue = double.NaN;
        return false;
    }
}

public static class LabCatalogue
{
    // Factors: molar to mass units use the molecular weight (glucose 180.16 g/mol, cholesterol 386.65 g/mol,
    // creatinine 113.12 g/mol, lactate 90.08 g/mol); haemoglobin mmol/L uses the monomer (16.114 g/mol Fe basis).
    public static readonly IReadOnlyList<LabTest> Tests =
    [
        new("GLUC", "Glucose", "mg/dL", Units(("mg/dL", 1), ("mmol/L", 18.016)), new(10, 2000, 70, 100)),
        new("CHOL", "Cholesterol", "mg/dL", Units(("mg/dL", 1), ("mmol/L", 38.67)), new(20, 1000, 125, 200)),
        new("HGB", "Hemoglobin", "g/dL", Units(("g/dL", 1), ("g/L", 0.1), ("mmol/L", 1.6114)), new(1, 25, 12, 17.5)),
        new("ALT", "Alanine Aminotransferase", "U/L", Units(("U/L", 1), ("IU/L", 1), ("ukat/L", 60)), new(0, 10000, 7, 56)),
        new("AST", "Aspartate Aminotransferase", "U/L", Units(("U/L", 1), ("IU/L", 1), ("ukat/L", 60)), new(0, 10000, 10, 40)),
        new("CREAT", "Creatinine", "mg/dL", Units(("mg/dL", 1), ("umol/L", 1 / 88.42)), new(0.05, 30, 0.6, 1.3)),
        new("WBC", "Leukocytes", "10^9/L", Units(("10^9/L", 1), ("10^3/uL", 1), ("/nL", 1)), new(0, 500, 4, 11)),
        new("PLAT", "Platelets", "10^9/L", Units(("10^9/L", 1), ("10^3/uL", 1), ("/nL", 1)), new(0, 3000, 150, 450)),
        new("LACT", "Lactate", "mmol/L", Units(("mmol/L", 1), ("mg/dL", 1 / 9.008)), new(0, 30, 0.5, 2.2)),
        new("SODIUM", "Sodium", "mmol/L", Units(("mmol/L", 1), ("mEq/L", 1)), new(90, 200, 135, 145)),
        new("K", "Potassium", "mmol/L", Units(("mmol/L", 1), ("mEq/L", 1)), new(1, 12, 3.5, 5.1)),
        new("BILI", "Bilirubin", "mg/dL", Units(("mg/dL", 1), ("umol/L", 1 / 17.1)), new(0, 50, 0.1, 1.2)),
    ];

    private static readonly Dictionary<string, LabTest> ByCode = Tests.ToDictionary(t => t.Code, StringComparer.OrdinalIgnoreCase);

    /// <summary>The test with <paramref name="code"/>, in any case.</summary>
    public static bool TryFind(string code, out LabTest test) => ByCode.TryGetValue(code, out test!);

    /// <summary>Unit spellings differ by site ("mg/dl", "µmol/L", "x10^9/L"); compare them in one canonical form.</summary>
    public static string NormaliseUnit(string unit)
    {
        var trimmed = unit.Trim().Replace('µ', 'u').Replace('μ', 'u');
        if (trimmed.StartsWith("x", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[1..];
        }

        return trimmed.ToUpperInvariant() switch
        {
            "MG/DL" => "mg/dL",
            "MMOL/L" => "mmol/L",
            "G/DL" => "g/dL",
            "G/L" => "g/L",
            "U/L" => "U/L",
            "IU/L" => "IU/L",
            "UKAT/L" => "ukat/L",
            "UMOL/L" => "umol/L",
            "10^9/L" or "10E9/L" => "10^9/L",
            "10^3/UL" or "10E3/UL" or "K/UL" => "10^3/uL",
            "/NL" => "/nL",
            "MEQ/L" => "mEq/L",
            _ => trimmed,
        };
    }

    private static Dictionary<string, double> Units(params (string Unit, double Factor)[] units) =>
        units.ToDictionary(u => u.Unit, u => u.Factor, StringComparer.Ordinal);
}
