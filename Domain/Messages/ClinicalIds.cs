namespace ClinicalTrials.Domain.Messages;

/// <summary>The shapes of the pseudonymous identifiers: checked by hand, as they sit on every message's path.</summary>
public static class ClinicalIds
{
    public const string PatientIdShape = "'PT' followed by 8 upper-case letters or digits";

    public const string SiteIdShape = "an upper-case site code such as SITE001";

    /// <summary><c>PT</c> and 8 upper-case ASCII letters or digits, e.g. <c>PT12AB34CD</c>.</summary>
    public static bool IsPatientId(ReadOnlySpan<char> id) =>
        id.Length == 10 && id.StartsWith("PT") && AreUpperOrDigits(id[2..]);

    /// <summary>An upper-case ASCII letter, then 2 to 31 upper-case letters, digits, '_' or '-', e.g. <c>SITE001</c>.</summary>
    public static bool IsSiteId(ReadOnlySpan<char> id)
    {
        if (id.Length is < 3 or > 32 || !char.IsAsciiLetterUpper(id[0]))
        {
            return false;
        }

        foreach (var c in id[1..])
        {
            if (!char.IsAsciiLetterUpper(c) && !char.IsAsciiDigit(c) && c is not ('_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AreUpperOrDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterUpper(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
