using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace ClinicalTrials.Domain.Validation;

/// <summary>How a test's result is expressed: a number with a unit, or one answer from a list.</summary>
public enum LabScale
{
    Quantitative,

    /// <summary>Answers in order (NEGATIVE &lt; TRACE &lt; 1+ …): stored as text with its rank.</summary>
    Ordinal,

    /// <summary>Answers without an order (urine colour): stored as text only.</summary>
    Nominal,
}

/// <summary>A unit conversion to a test's standard unit: <c>standard = value × Factor + Offset</c>.</summary>
public readonly record struct UnitConversion(double Factor, double Offset = 0)
{
    public double Apply(double value) => (value * Factor) + Offset;
}

/// <summary>
/// One lab test of the catalogue (CDISC LBTESTCD, with LBSPEC where a urine test shares its code with a blood test):
/// its LOINC code, standard unit, the units it may arrive in with their conversions, and its range in the standard
/// unit; or, for a qualitative test, its answers.
/// </summary>
public sealed record LabTest(
    string Code,
    string? Specimen,
    string Name,
    string? Loinc,
    string Category,
    LabScale Scale,
    string? StandardUnit,
    IReadOnlyDictionary<string, UnitConversion> Conversions,
    ClinicalRange? Range,
    IReadOnlyList<string> Answers,
    IReadOnlyDictionary<string, string> Aliases)
{
    // The units as written in the catalogue, and again in canonical spelling, so a sent unit is found either way.
    private readonly FrozenDictionary<string, UnitConversion> _byUnitKey =
        Conversions.GroupBy(c => LabCatalogue.UnitKey(c.Key)).ToFrozenDictionary(g => g.Key, g => g.First().Value);

    /// <summary>Converts <paramref name="value"/> in <paramref name="unit"/> to the standard unit; false for a unit not listed.</summary>
    public bool TryStandardise(double value, string unit, out double standardValue)
    {
        // Most sites send the units as written here: only the others pay for the canonical spelling.
        if (Conversions.TryGetValue(unit, out var conversion) || _byUnitKey.TryGetValue(LabCatalogue.UnitKey(unit), out conversion))
        {
            standardValue = Math.Round(conversion.Apply(value), 4);
            return true;
        }

        standardValue = double.NaN;
        return false;
    }

    /// <summary>The catalogue's answer for <paramref name="text"/> (any case, or an alias) and its rank; false when not listed.</summary>
    public bool TryAnswer(string text, out string answer, out int rank)
    {
        var upper = text.Trim().ToUpperInvariant();
        answer = Aliases.TryGetValue(upper, out var aliased) ? aliased : upper;
        for (rank = 0; rank < Answers.Count; rank++)
        {
            if (Answers[rank] == answer)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// The lab catalogue: data, not code. <c>Domain/Catalogues/lab-catalogue.json</c> (embedded in the assembly, read once
/// at start) lists every test; its <c>version</c> changes with any edit. The rules are in docs/labs.md.
/// </summary>
public static class LabCatalogue
{
    /// <summary>The specimen assumed when a result names none (blood, serum or plasma).</summary>
    public const string DefaultSpecimen = "BLOOD";

    private static readonly Loaded Catalogue = Load();

    /// <summary>The catalogue file's <c>version</c>.</summary>
    public static string Version => Catalogue.Version;

    public static IReadOnlyList<LabTest> Tests => Catalogue.Tests;

    /// <summary>The test with <paramref name="code"/> (any case) for <paramref name="specimen"/> (null: blood).</summary>
    public static bool TryFind(string code, string? specimen, out LabTest test) =>
        Catalogue.ByKey.TryGetValue(Key(code, specimen), out test!);

    /// <summary>The blood test with <paramref name="code"/>, in any case.</summary>
    public static bool TryFind(string code, out LabTest test) => TryFind(code, null, out test);

    /// <summary>
    /// Unit spellings differ by site and standard ("mg/dl", "µmol/L", "x10^9/L", UCUM "10*9/L", "m[IU]/L"): every
    /// spelling of a unit has the same key. Case is ignored, as no lab unit differs from another by case alone.
    /// </summary>
    public static string UnitKey(string unit)
    {
        var key = unit.Trim().Replace('µ', 'u').Replace('μ', 'u').Replace("[", "").Replace("]", "").Replace(" ", "").ToUpperInvariant();
        if (key.StartsWith('X') && key.Length > 1 && char.IsAsciiDigit(key[1]))
        {
            key = key[1..];
        }

        key = key.Replace("10*", "10^").Replace("10E", "10^");
        return key switch
        {
            "K/UL" => "10^3/UL",
            "M/UL" => "10^6/UL",
            _ => key,
        };
    }

    private static string Key(string code, string? specimen) =>
        $"{code.Trim().ToUpperInvariant()}|{(string.IsNullOrWhiteSpace(specimen) ? DefaultSpecimen : NormaliseSpecimen(specimen))}";

    private static string NormaliseSpecimen(string specimen) => specimen.Trim().ToUpperInvariant() switch
    {
        "SERUM" or "PLASMA" or "SERUM OR PLASMA" or "WHOLE BLOOD" or "ARTERIAL BLOOD" or "VENOUS BLOOD" => DefaultSpecimen,
        var other => other,
    };

    private sealed record Loaded(string Version, LabTest[] Tests, FrozenDictionary<string, LabTest> ByKey);

    private static Loaded Load()
    {
        using var stream = typeof(LabCatalogue).Assembly.GetManifestResourceStream("lab-catalogue.json")
            ?? throw new InvalidOperationException("The lab catalogue resource lab-catalogue.json is missing from the Domain assembly.");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var tests = root.GetProperty("tests").EnumerateArray().Select(ReadTest).ToArray();
        var byKey = new Dictionary<string, LabTest>(StringComparer.Ordinal);
        foreach (var test in tests)
        {
            if (!byKey.TryAdd(Key(test.Code, test.Specimen), test))
            {
                throw new InvalidOperationException($"The lab catalogue lists {test.Code} ({test.Specimen ?? DefaultSpecimen}) twice.");
            }
        }

        return new Loaded(root.GetProperty("version").GetString()!, tests, byKey.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static LabTest ReadTest(JsonElement t)
    {
        var code = t.GetProperty("code").GetString()!;
        var scale = t.TryGetProperty("scale", out var s) ? Enum.Parse<LabScale>(s.GetString()!, ignoreCase: true) : LabScale.Quantitative;
        var conversions = new Dictionary<string, UnitConversion>(StringComparer.Ordinal);
        ClinicalRange? range = null;
        if (scale == LabScale.Quantitative)
        {
            foreach (var unit in t.GetProperty("units").EnumerateObject())
            {
                conversions[unit.Name] = ReadConversion(code, unit.Value);
            }

            var (possible, reference) = (t.GetProperty("possible"), t.GetProperty("reference"));
            range = new ClinicalRange(possible[0].GetDouble(), possible[1].GetDouble(), reference[0].GetDouble(), reference[1].GetDouble());
            var standard = t.GetProperty("unit").GetString()!;
            if (!conversions.TryGetValue(standard, out var identity) || identity != new UnitConversion(1))
            {
                throw new InvalidOperationException($"Lab test {code}: its standard unit {standard} must be listed with factor 1.");
            }
        }

        return new LabTest(
            code,
            t.TryGetProperty("specimen", out var specimen) ? specimen.GetString() : null,
            t.GetProperty("name").GetString()!,
            t.GetProperty("loinc").GetString(),
            t.GetProperty("category").GetString()!,
            scale,
            scale == LabScale.Quantitative ? t.GetProperty("unit").GetString() : null,
            conversions,
            range,
            t.TryGetProperty("answers", out var answers) ? [.. answers.EnumerateArray().Select(a => a.GetString()!)] : [],
            t.TryGetProperty("aliases", out var aliases) ? aliases.EnumerateObject().ToDictionary(a => a.Name, a => a.Value.GetString()!) : []);
    }

    // A factor (18.016), a divisor ("/88.42": written so, 1/88.42 is exact to the last digit), or {factor, offset}.
    private static UnitConversion ReadConversion(string code, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => new UnitConversion(value.GetDouble()),
        JsonValueKind.String when value.GetString() is ['/', .. var divisor] => new UnitConversion(1 / double.Parse(divisor, CultureInfo.InvariantCulture)),
        JsonValueKind.Object => new UnitConversion(value.GetProperty("factor").GetDouble(), value.GetProperty("offset").GetDouble()),
        _ => throw new InvalidOperationException($"Lab test {code}: a conversion is a number, \"/divisor\" or {{factor, offset}}."),
    };
}
