namespace ClinicalTrials.Trainer;

/// <summary>
/// The platform's one rule for configuration settings on a command line, for the trainer and the silo (which references
/// the trainer). The settings among a command's leftover tokens are <c>--Section:Key=value</c> and
/// <c>--Section:Key value</c>; for a host (the silo) also the generic host's own <c>--environment</c>,
/// <c>--contentRoot</c> and <c>--applicationName</c>, and the two top-level keys hosting tools such as
/// WebApplicationFactory hand over with a whole configuration: an environment-style key
/// (<c>--OTEL_EXPORTER_OTLP_ENDPOINT=…</c>) and a section's empty entry (<c>--Journal=</c>). Anything else is a problem
/// naming the first such token, so a mistyped option (<c>--dta-dir=…</c>, <c>--url=…</c> for <c>--urls</c>; for the
/// trainer also <c>--tress=10</c>) is refused rather than ignored or taken for a setting that swallows the next argument.
/// </summary>
public static class SettingArguments
{
    private static readonly string[] HostSettings = ["environment", "contentRoot", "applicationName"];

    /// <summary>
    /// The settings among <paramref name="tokens"/>, or a problem naming the first token that is none;
    /// <paramref name="host"/> takes the host's settings and top-level keys too.
    /// </summary>
    public static (IReadOnlyList<string> Settings, string? Problem) Split(IReadOnlyList<string> tokens, bool host = false)
    {
        var settings = new List<string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var name = token.Split('=', 2)[0];
            if (!name.StartsWith("--", StringComparison.Ordinal)
                || !(name.Contains(':', StringComparison.Ordinal)
                    || (host && (HostSettings.Contains(name[2..], StringComparer.OrdinalIgnoreCase) || IsTopLevelKey(token, name[2..])))))
            {
                return ([], $"Unknown argument '{token}': settings are --Section:Key=value (as in appsettings.json, e.g. --Storage:Provider=S3).");
            }

            settings.Add(token);
            if (!token.Contains('=', StringComparison.Ordinal))
            {
                if (i + 1 == tokens.Count)
                {
                    return ([], $"The setting '{name}' has no value.");
                }

                settings.Add(tokens[++i]);
            }
        }

        return (settings, null);
    }

    /// <summary>An environment-style key with its value (<c>OTEL_EXPORTER_OTLP_ENDPOINT=…</c>) or a section's empty entry (<c>Journal=</c>).</summary>
    private static bool IsTopLevelKey(string token, string key) => token.Split('=', 2) switch
    {
        [_, ""] => key.All(char.IsAsciiLetterOrDigit),
        [_, _] => key.Contains('_', StringComparison.Ordinal) && key.All(c => c == '_' || char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)),
        _ => false,
    };
}
