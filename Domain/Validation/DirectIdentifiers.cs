using System.Text.RegularExpressions;

namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// What in a free-text field (an event term, a trial arm, a unit, a specimen, a lab's text answer) looks like a direct
/// identifier of a person (HIPAA §164.514(b)(2)): an e-mail address, a phone number, a national identification number,
/// a name with a title, a date of birth. Sites must send pseudonymous, coded data; a message holding one is rejected
/// and its body is not kept (<see cref="Rules.DirectIdentifier"/>). The patterns favour catching over sparing: a term
/// that trips one can be sent coded.
/// </summary>
public static partial class DirectIdentifiers
{
    /// <summary>What kind of identifier <paramref name="text"/> looks like it holds, for the rejection's sentence; null for none.</summary>
    public static string? Find(string text)
    {
        // Every text of every message passes here: one scan decides which patterns can match at all (a unit such as
        // mg/dL has no @, digit or space and is done).
        int digits = 0;
        bool at = false, space = false;
        foreach (var c in text)
        {
            digits += char.IsAsciiDigit(c) ? 1 : 0;
            at |= c == '@';
            space |= c == ' ';
        }

        return at && EMail().IsMatch(text) ? "an e-mail address"
            : digits >= 6 && NationalId().IsMatch(text) ? "a national identification number"
            : digits >= 9 && Phone().IsMatch(text) ? "a phone number"
            : digits > 0 && DateOfBirth().IsMatch(text) ? "a date of birth"
            : space && TitledName().IsMatch(text) ? "a name with a title"
            : null;
    }

    [GeneratedRegex(@"[A-Z0-9._%+-]+@[A-Z0-9-]+(\.[A-Z0-9-]+)*\.[A-Z]{2,}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EMail();

    /// <summary>A US social security number (123-45-6789) or a UK national insurance number (QQ 12 34 56 C).</summary>
    [GeneratedRegex(@"\b\d{3}-\d{2}-\d{4}\b|\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex NationalId();

    /// <summary>Nine to fifteen digits, optionally after a +, with at most two spaces, dots, dashes or brackets between two of them.</summary>
    [GeneratedRegex(@"(?<![\w.])\+?\(?\d(?:[ ().-]{0,2}\d){8,14}(?!\w)", RegexOptions.CultureInvariant)]
    private static partial Regex Phone();

    [GeneratedRegex(@"\b(?:DOB|D\.O\.B\.?|date of birth|born(?: on)?)\b[\s:]*\d", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DateOfBirth();

    /// <summary>A title as people write it (case matters: "MS relapse" is a diagnosis, "Ms Smith" a person) and a capitalised word.</summary>
    [GeneratedRegex(@"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.? +[A-Z][a-zA-Z'-]+", RegexOptions.CultureInvariant)]
    private static partial Regex TitledName();
}
