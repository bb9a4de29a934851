using System.Globalization;
using System.Text.RegularExpressions;

namespace ClinicalTrials.Api.Sdtm;

/// <summary>
/// SDTM --DTC values (ISO 8601, possibly partial) as our timestamps. A partial date (or one without a time) is completed with the earliest
/// instant it can mean: a missing month is January, a missing day the 1st, a missing time midnight; a value with no
/// offset is UTC. An interval (<c>start/end</c>) stands for its start. Written back as <c>YYYY-MM-DDThh:mm:ss</c> (UTC,
/// with a fraction only when there is one).
/// </summary>
internal static partial class SdtmDates
{
    /// <summary>The instant, and whether any part of it was filled in; null when <paramref name="text"/> is not an ISO 8601 date.</summary>
    public static (DateTimeOffset At, bool Imputed)? Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var value = slash >= 0 ? text[..slash] : text;
        // A component SDTM marks unknown with a hyphen ("2003---15": the month is unknown) ends what is known.
        var unknown = value.Length > 4 ? value.IndexOf("--", 4, StringComparison.Ordinal) : -1;
        var imputedByHyphen = unknown >= 0;
        if (imputedByHyphen)
        {
            value = value[..unknown];
        }

        var match = DtcPattern().Match(value);
        if (!match.Success)
        {
            return null;
        }

        int Part(string name, int missing) => match.Groups[name].Success ? int.Parse(match.Groups[name].Value, CultureInfo.InvariantCulture) : missing;
        var (year, month, day) = (Part("y", 1), Part("mo", 1), Part("d", 1));
        var (hour, minute, second) = (Part("h", 0), Part("mi", 0), Part("s", 0));
        var ticks = match.Groups["f"].Success ? (long)Math.Round(double.Parse("0" + match.Groups["f"].Value, CultureInfo.InvariantCulture) * TimeSpan.TicksPerSecond) : 0;
        var offset = match.Groups["z"].Value switch
        {
            "" or "Z" => TimeSpan.Zero,
            var z => TimeSpan.ParseExact(z[1..], "hh\\:mm", CultureInfo.InvariantCulture) * (z[0] == '-' ? -1 : 1),
        };
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return null;
        }

        var at = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(ticks).ToUniversalTime();
        return (at, imputedByHyphen || !match.Groups["mi"].Success);
    }

    /// <summary>The instant as an SDTM --DTC value (UTC, no offset written).</summary>
    public static string Format(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return utc.ToString(utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
    }

    /// <summary>A date as an SDTM --DTC value.</summary>
    public static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<mo>\d{2})(-(?<d>\d{2})(T(?<h>\d{2})(:(?<mi>\d{2})(:(?<s>\d{2})(?<f>\.\d{1,7})?)?)?(?<z>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex DtcPattern();
}
