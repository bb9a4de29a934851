using System.Text.RegularExpressions;

namespace ClinicalTrials.Grains.Journal;

/// <summary>How rejection reasons are keyed, so that counts do not split by list position.</summary>
public static partial class JournalFields
{
    /// <summary><c>lab_results.results[3].value</c> becomes <c>lab_results.results[].value</c>.</summary>
    public static string WithoutListIndex(string field) => ListIndex().Replace(field, "[]");

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex ListIndex();
}
