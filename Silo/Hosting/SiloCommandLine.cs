using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Trainer;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The silo program's commands and their options. With no command, or <c>run</c>, it runs the platform. The commands
/// that read the silo's configuration (the platform, <c>migrate</c>, <c>run-job</c>, <c>keys</c>, <c>token</c>,
/// <c>audit</c>) also take settings: any configuration key as <c>--Section:Key=value</c> or <c>--Section:Key value</c>
/// (as in appsettings.json; a top-level key as <c>--Key=value</c>), and the generic host's own <c>--environment</c>, <c>--contentRoot</c> and
/// <c>--applicationName</c>, which hosting tools (WebApplicationFactory among them) pass with the rest of their
/// configuration. Anything else, or an option's value that does not parse, is refused before anything starts, with one
/// line naming it and exit code 2, so a mistyped option is never taken for a setting that swallows the next argument.
/// </summary>
public static class SiloCommandLine
{
    /// <summary>The exit code of a command line the program refuses.</summary>
    public const int UsageError = 2;

    private static readonly string DataDirectoryKey = $"{JournalOptions.Section}:{nameof(JournalOptions.DataDirectory)}";

    /// <summary>Parses <paramref name="args"/>, refuses what it does not know, and runs the command.</summary>
    public static async Task<int> InvokeAsync(IReadOnlyList<string> args)
    {
        // No response files: a setting's value that begins with @ (a password) is taken as it is, not read from a file.
        var result = Create().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

        // Help and --version answer whatever else is on the line.
        if (result.Action is not { ClearsParseErrors: true } && Problem(result) is { } problem)
        {
            await Console.Error.WriteLineAsync(problem);
            return UsageError;
        }

        // Signals stay the host's, which stops the platform gracefully within its own shutdown timeout; exceptions
        // propagate as from any host (WebApplicationFactory relies on that to report a start that failed).
        return await result.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    /// <summary>The commands, each with its options and its action.</summary>
    public static RootCommand Create()
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "The data directory (default ./data).", HelpName = "DIR" };
        var listen = new Option<string?>("--urls") { Description = "Where HTTP listens (default http://localhost:8080).", HelpName = "URL" };
        var silo = new Option<string?>("--urls")
        {
            Description = $"The running silo (the first of its --urls; default $ASPNETCORE_URLS, else {ClinicalPlatformExtensions.DefaultUrls}).",
            HelpName = "URL",
        };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "The credential sent to the silo, an API key or a staff token (docs/security.md); default $CLINICAL_API_KEY.",
            HelpName = "KEY",
        };
        SiloEndpoint Endpoint(ParseResult result) => SiloEndpoint.From(result.GetValue(silo), result.GetValue(apiKey));

        // The declared settings are configuration keys by a shorter name; as keys on the command line they take
        // precedence over appsettings.json and the environment, as every other setting there does.
        string[] Configuration(ParseResult result) =>
        [
            .. SettingArguments.Split(result.UnmatchedTokens, host: true).Settings,
            .. result.GetValue(dataDir) is { } directory ? [$"--{DataDirectoryKey}={directory}"] : Array.Empty<string>(),
            .. result.GetValue(listen) is { } urls ? [$"--{WebHostDefaults.ServerUrlsKey}={urls}"] : Array.Empty<string>(),
        ];

        var root = new RootCommand(
            "ClinicalTrials.Silo: the clinical-trials platform (an Orleans silo with its HTTP gateway). Without a command it runs the " +
            "platform (the embedded default needs no server). Where a command reads the silo's configuration, any configuration key " +
            "of appsettings.json is a setting: --Section:Key=value, e.g. --Cluster:Mode=Postgres --ConnectionStrings:Postgres=... " +
            "--Orleans:SiloPort=11111 --Pipeline:ScheduleEnabled=false; environment variables set the same keys (Cluster__Mode=Postgres). " +
            "See README.md and docs/cluster.md. Exit codes: 0 done, 1 failed, 2 refused command line, 3 start refused.")
        {
            dataDir, listen,
        };
        var run = new Command("run", "Run the platform (the same as no command).") { dataDir, listen };
        foreach (var platform in new Command[] { root, run })
        {
            platform.SetAction((result, _) => PlatformCommand.RunAsync(Configuration(result)));
        }

        var migrate = new Command("migrate", "Apply the cluster database's schema (ConnectionStrings:Postgres; idempotent).");
        migrate.SetAction((result, _) => MigrateCommand.RunAsync(Configuration(result)));

        var jobName = new Argument<string>("NAME") { Description = "The job: bronze-to-silver, offline-features or retention." };
        var jobFrom = DateOption("--from", "The first day of a backfill (UTC, YYYY-MM-DD).");
        var jobTo = DateOption("--to", "The last day of a backfill (UTC, YYYY-MM-DD; default: --from).");
        var runJob = new Command("run-job", "Run one pipeline job in this process, without a silo (the embedded profile's only), and print its record.")
        {
            jobName, jobFrom, jobTo, dataDir,
        };
        runJob.SetAction((result, _) => PipelineCommand.RunAsync(
            result.GetValue(jobName)!, new JobArguments(result.GetValue(jobFrom), result.GetValue(jobTo)), Configuration(result)));

        var sdtmDirectory = new Argument<DirectoryInfo>("DIR") { Description = "A directory of Dataset-JSON files (DM, VS, LB, AE; *.json, *.ndjson)." }
            .AcceptExistingOnly();
        var siteId = new Option<string>("--site-id") { Description = "The site the data comes from, e.g. SITE001.", Required = true, HelpName = "SITE" };
        var studyPhase = new Option<string>("--study-phase") { Description = "The study's phase, e.g. \"Phase II\".", Required = true, HelpName = "PHASE" };
        var importSdtm = new Command("sdtm", "Send every Dataset-JSON file of DIR to the running silo (POST /api/import/sdtm) and print each answer.")
        {
            sdtmDirectory, siteId, studyPhase, silo, apiKey,
        };
        importSdtm.SetAction((result, _) => SdtmCommand.ImportAsync(
            result.GetValue(sdtmDirectory)!, result.GetValue(siteId)!, result.GetValue(studyPhase)!, Endpoint(result)));

        var domain = new Option<string>("--domain") { Description = "The domain: DM, VS, LB or AE.", Required = true, HelpName = "DOMAIN" };
        var exportFrom = DateOption("--from", "The first clinical date (YYYY-MM-DD, inclusive).");
        var exportTo = DateOption("--to", "The last clinical date (YYYY-MM-DD, inclusive).");
        var studyId = new Option<string?>("--study-id") { Description = $"STUDYID of the export (default {Api.Sdtm.SdtmApi.DefaultStudyId}).", HelpName = "ID" };
        var exportFile = new Option<string?>("--out") { Description = "The file written (default: the domain's name, e.g. vs.json).", HelpName = "FILE" };
        var exportSdtm = new Command("sdtm", "Write one domain from silver as Dataset-JSON v1.1 (GET /api/export/sdtm of the running silo).")
        {
            domain, exportFrom, exportTo, studyId, exportFile, silo, apiKey,
        };
        exportSdtm.SetAction((result, _) => SdtmCommand.ExportAsync(
            new SdtmExport(result.GetValue(domain)!, result.GetValue(exportFrom), result.GetValue(exportTo), result.GetValue(studyId), result.GetValue(exportFile)),
            Endpoint(result)));

        var doctor = new Command("doctor",
            "Walk the running silo's pipeline (GET /api/pipeline/doctor): pass/warn/fail per check with a hint; exit 1 on any fail.")
        {
            silo, apiKey,
        };
        doctor.SetAction((result, _) => DoctorCommand.RunAsync(Endpoint(result)));

        var keyName = new Option<string?>("--name") { Description = "What the key is for, e.g. \"SITE001 EDC\"." };
        var keyRole = new Option<string?>("--role") { Description = $"The key's role: {string.Join(", ", Roles.All)}." };
        var keySite = new Option<string?>("--site") { Description = "The one site the key may send or read, e.g. SITE001." };
        var ingestOnly = new Option<bool>("--ingest-only") { Description = "The key may only send data." };
        var createKey = new Command("create", "Create an API key; it is printed once.") { keyName, keyRole, keySite, ingestOnly, dataDir };
        createKey.SetAction((result, _) => AccessCommand.Open(Configuration(result)).CreateKeyAsync(
            new ApiKeyRequest(result.GetValue(keyName), result.GetValue(keyRole), result.GetValue(keySite), result.GetValue(ingestOnly))));
        var listKeys = new Command("list", "List the keys (never a secret or a hash).") { dataDir };
        listKeys.SetAction((result, _) => AccessCommand.Open(Configuration(result)).ListKeysAsync());
        var keyId = new Argument<string>("KEY_ID") { Description = "The key's id, as keys list shows it." };
        var rotateKey = new Command("rotate", "Give a key a new secret, printed once; the old one stops working.") { keyId, dataDir };
        rotateKey.SetAction((result, _) => AccessCommand.Open(Configuration(result)).RotateKeyAsync(result.GetValue(keyId)!));
        var revokeKey = new Command("revoke", "Revoke a key.") { keyId, dataDir };
        revokeKey.SetAction((result, _) => AccessCommand.Open(Configuration(result)).RevokeKeyAsync(result.GetValue(keyId)!));
        var keys = new Command("keys", "API keys (docs/security.md).") { createKey, listKeys, rotateKey, revokeKey };

        var subject = new Option<string?>("--subject") { Description = "Who the token is for." };
        var tokenRoles = new Option<string?>("--role") { Description = $"The token's roles, comma-separated: {string.Join(", ", Roles.All)}.", HelpName = "ROLE[,ROLE]" };
        var tokenSite = new Option<string?>("--site") { Description = "The one site the token may read, e.g. SITE001." };
        var hours = new Option<double>("--hours") { Description = "How long the token is valid, in hours (at most 744).", DefaultValueFactory = _ => 8 };
        var token = new Command("token", "A staff bearer token signed with the silo's key.") { subject, tokenRoles, tokenSite, hours, dataDir };
        token.SetAction((result, _) => AccessCommand.Open(Configuration(result)).MintTokenAsync(
            result.GetValue(subject), result.GetValue(tokenRoles), result.GetValue(tokenSite), result.GetValue(hours)));

        var verifyAudit = new Command("verify", "Re-compute the audit chain and check its signed checkpoints; exit 1 when either is broken.") { dataDir };
        verifyAudit.SetAction((result, _) => AccessCommand.Open(Configuration(result)).VerifyAuditAsync());
        var auditFrom = TimeOption("--from", "The first moment exported (e.g. 2026-01-01; UTC unless it names an offset).");
        var auditTo = TimeOption("--to", "The moment the export ends (e.g. 2026-02-01; UTC unless it names an offset).");
        var exportAudit = new Command("export", "The audit records as JSON lines.") { auditFrom, auditTo, dataDir };
        exportAudit.SetAction((result, _) => AccessCommand.Open(Configuration(result)).ExportAuditAsync(result.GetValue(auditFrom), result.GetValue(auditTo)));
        var checkpointAudit = new Command("checkpoint", "Sign the audit chain's head now, as the silos do every Security:Audit:CheckpointInterval.") { dataDir };
        checkpointAudit.SetAction((result, _) => AccessCommand.Open(Configuration(result)).CheckpointAuditAsync());
        var rotateAuditKey = new Command("rotate-key", "Retire the embedded default's checkpoint key (its checkpoints still verify) and make a new one.") { dataDir };
        rotateAuditKey.SetAction((result, _) => AccessCommand.Open(Configuration(result)).RotateCheckpointKeyAsync());
        var audit = new Command("audit", "The audit trail (docs/security.md).") { verifyAudit, exportAudit, checkpointAudit, rotateAuditKey };

        root.Add(run);
        root.Add(migrate);
        root.Add(runJob);
        root.Add(new Command("import", "Import data into the running silo.") { importSdtm });
        root.Add(new Command("export", "Export data from the running silo.") { exportSdtm });
        root.Add(doctor);
        root.Add(keys);
        root.Add(token);
        root.Add(audit);
        foreach (var command in new Command[] { root, run, migrate, runJob, createKey, listKeys, rotateKey, revokeKey, token, verifyAudit, exportAudit, checkpointAudit, rotateAuditKey })
        {
            // Their tokens that match no option are settings, checked by Settings before the command runs.
            command.TreatUnmatchedTokensAsErrors = false;
        }

        return root;
    }

    private static string? Problem(ParseResult result)
    {
        var help = $"See: {CommandPath(result.CommandResult)} --help";
        if (result.Errors.Count > 0)
        {
            return $"{result.Errors[0].Message} {help}";
        }

        // The parser lets unmatched tokens pass as soon as the root does (it takes the platform's settings), whatever the
        // command says; a command that reads no configuration (doctor, import, export) takes no settings.
        if (result.UnmatchedTokens is [var first, ..] && result.CommandResult.Command.TreatUnmatchedTokensAsErrors)
        {
            return $"Unknown argument '{first}'. {help}";
        }

        return SettingArguments.Split(result.UnmatchedTokens, host: true).Problem is { } problem ? $"{problem} {help}" : null;
    }

    private static string CommandPath(CommandResult command) =>
        command.Parent is CommandResult parent ? $"{CommandPath(parent)} {command.Command.Name}" : command.Command.Name;

    private static Option<DateOnly?> DateOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "YYYY-MM-DD",
        CustomParser = argument =>
        {
            var text = argument.Tokens.Single().Value;
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            argument.AddError($"{name}: '{text}' is not a date (YYYY-MM-DD).");
            return null;
        },
    };

    private static Option<DateTimeOffset?> TimeOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "TIME",
        CustomParser = argument =>
        {
            var text = argument.Tokens.Single().Value;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                return time;
            }

            argument.AddError($"{name}: '{text}' is not a time (e.g. 2026-01-01 or 2026-01-01T08:00:00Z).");
            return null;
        },
    };
}
