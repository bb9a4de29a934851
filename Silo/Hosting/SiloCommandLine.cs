namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// What the silo program accepts on its command line: a command (<c>migrate</c>, <c>run-job</c>, <c>import sdtm</c>, <c>export sdtm</c>, <c>doctor</c>) or none (run the
/// platform), then settings. A setting is a configuration key (<c>--Section:Key=value</c> or <c>--Section:Key value</c>,
/// as in appsettings.json) or one of the few plain options below; a name followed by its value as the next argument
/// must be one of those, so a mistyped option is refused rather than taken for a setting that swallows the next
/// argument.
/// </summary>
public static class SiloCommandLine
{
    private static readonly string[] PlainOptions =
    [
        "--data-dir", "--urls", "--environment", "--from", "--to", "--site-id", "--study-phase", "--domain", "--study-id", "--out",
        "--name", "--role", "--site", "--ingest-only", "--subject", "--hours", "--api-key",
    ];

    // The generic host's own settings, which hosting tools (WebApplicationFactory among them) pass on the command line.
    private static readonly string[] HostOptions = ["--contentRoot", "--applicationName"];

    public const string Usage = """
        ClinicalTrials.Silo: the clinical-trials platform (an Orleans silo with its HTTP gateway).

        usage:
          ClinicalTrials.Silo [settings]                     run the platform (the embedded default needs no server)
          ClinicalTrials.Silo migrate [settings]             apply the cluster database's schema (idempotent)
          ClinicalTrials.Silo run-job NAME [--from YYYY-MM-DD] [--to YYYY-MM-DD] [settings]
                                                             run one pipeline job (bronze-to-silver, offline-features,
                                                             retention) in this process and print its record
          ClinicalTrials.Silo import sdtm DIR --site-id SITE --study-phase PHASE [--urls URL] [--api-key KEY]
                                                             send every Dataset-JSON file of DIR (DM, VS, LB, AE) to the
                                                             running silo (POST /api/import/sdtm); prints each answer
          ClinicalTrials.Silo export sdtm --domain DM|VS|LB|AE [--from D] [--to D] [--study-id ID] [--out FILE] [--urls URL] [--api-key KEY]
                                                             write one domain from silver as Dataset-JSON v1.1
          ClinicalTrials.Silo doctor [--urls URL] [--api-key KEY]
                                                             walk the running silo's pipeline (GET /api/pipeline/doctor):
                                                             pass/warn/fail per check with a hint; exit 1 on any fail
                                                             (the key, or a token, defaults to $CLINICAL_API_KEY)
          ClinicalTrials.Silo keys create --name NAME --role ROLE [--site SITE001] [--ingest-only true]
          ClinicalTrials.Silo keys list | keys rotate KEY_ID | keys revoke KEY_ID
                                                             API keys (docs/security.md); a new key is printed once
          ClinicalTrials.Silo token --subject WHO --role ROLE[,ROLE] [--site SITE001] [--hours 8]
                                                             a staff bearer token signed with the silo's key
          ClinicalTrials.Silo audit verify | audit export [--from DATE] [--to DATE]
                                                             re-compute the audit chain (exit 1 when broken); JSON lines

        settings:
          --data-dir DIR                                     the data directory (default ./data)
          --urls URL                                         where HTTP listens (default http://localhost:8080)
          --Section:Key=value                                any configuration key of appsettings.json, e.g.
                                                             --Cluster:Mode=Postgres --ConnectionStrings:Postgres=...
                                                             --Orleans:SiloPort=11111 --Pipeline:ScheduleEnabled=false
          -h, --help                                         this text

        Environment variables set the same keys (Cluster__Mode=Postgres). See README.md and docs/cluster.md.
        """;

    public static bool AsksForHelp(string[] args) => args.Any(a => a is "-h" or "--help" or "-?");

    /// <summary>One line naming the first argument that is neither a command, a setting nor a setting's value; or null.</summary>
    public static string? Problem(string[] args)
    {
        var start = args switch
        {
            ["run-job", var job, ..] when !job.StartsWith('-') => 2,
            ["import", "sdtm", var directory, ..] when !directory.StartsWith('-') => 3,
            ["export", "sdtm", ..] => 2,
            ["import" or "export", ..] => args.Length, // answered with its own usage
            ["keys", "rotate" or "revoke", var id, ..] when !id.StartsWith('-') => 3,
            ["keys" or "audit", var verb, ..] when !verb.StartsWith('-') => 2,
            ["migrate" or "run-job" or "doctor" or "token" or "keys" or "audit", ..] => 1, // run-job without a job name answers with its own usage
            _ => 0,
        };
        for (var i = start; i < args.Length; i++)
        {
            var argument = args[i];
            if (!argument.StartsWith("--", StringComparison.Ordinal))
            {
                return Unknown(argument);
            }

            // --Key=value is a configuration key whatever its name (hosting tools pass whole sections so); a name whose
            // value follows as the next argument must be one this program knows, or it would swallow that argument.
            if (!argument.Contains('='))
            {
                if (!argument.Contains(':') && !PlainOptions.Concat(HostOptions).Contains(argument, StringComparer.OrdinalIgnoreCase))
                {
                    return Unknown(argument);
                }

                i++;
            }
        }

        return null;
    }

    private static string Unknown(string argument) =>
        $"Unknown argument '{argument}': settings are --Section:Key=value (as in appsettings.json) or one of {string.Join(", ", PlainOptions)}; see --help.";
}
