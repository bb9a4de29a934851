using System.Text.RegularExpressions;

namespace ClinicalTrials.Domain.Validation;

/// <summary>Why a message was rejected: the JSON path of the field, the rule it broke and a sentence for people.</summary>
public sealed record Violation(string Field, string Rule, string Message);

/// <summary>How rejection reasons are keyed wherever they are counted, so that counts do not split by list position.</summary>
public static partial class ViolationFields
{
    /// <summary><c>lab_results.results[3].value</c> becomes <c>lab_results.results[].value</c>.</summary>
    public static string WithoutListIndex(string field) => ListIndex().Replace(field, "[]");

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex ListIndex();
}

/// <summary>The rule names that appear in <see cref="Violation.Rule"/>; clients may switch on them.</summary>
public static class Rules
{
    public const string Json = "json";
    public const string Required = "required";
    public const string Type = "type";
    public const string Format = "format";
    public const string Range = "range";
    public const string Enum = "enum";
    public const string Future = "future";
    public const string OnePayload = "one_payload";
    public const string UnknownTest = "unknown_test";
    public const string UnknownUnit = "unknown_unit";
    public const string Consistency = "consistency";
    public const string DuplicateKey = "duplicate_key";

    /// <summary>A free-text field looks like it holds a direct identifier (<see cref="DirectIdentifiers"/>): the whole message is rejected.</summary>
    public const string DirectIdentifier = "direct_identifier";
}
