using System.Globalization;
using System.Text.Json;
using ClinicalTrials.Api;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The administrator's commands, run beside a running silo or without one, with the silo's configuration (the data
/// directory, or <c>ConnectionStrings:Postgres</c> in a cluster): <c>keys create|list|rotate|revoke</c>, <c>token</c>
/// (a staff bearer token signed with the silo's key) and <c>audit verify|export</c>. A key or token is printed alone on
/// standard output, so <c>KEY=$(… keys create …)</c> keeps it; everything else goes to standard error.
/// </summary>
public static class AccessCommand
{
    public const string Usage = """
        usage:
          keys create --name NAME --role ROLE [--site SITE001] [--ingest-only true]
          keys list | keys rotate KEY_ID | keys revoke KEY_ID
          token --subject WHO --role ROLE[,ROLE…] [--site SITE001] [--hours 8]
          audit verify | audit export [--from 2026-01-01] [--to 2026-02-01]
        """;

    public static bool Handles(string[] args) => args is ["keys" or "token" or "audit", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        var (command, settings) = args switch
        {
            ["keys", "rotate" or "revoke", var id, ..] when !id.StartsWith('-') => ($"keys {args[1]}", args[3..]),
            ["keys" or "audit", var verb, ..] when !verb.StartsWith('-') => ($"{args[0]} {verb}", args[2..]),
            ["token", ..] => ("token", args[1..]),
            _ => ("", args),
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(settings, new Dictionary<string, string>
        {
            ["--data-dir"] = $"{JournalOptions.Section}:{nameof(JournalOptions.DataDirectory)}",
        });
        var configuration = builder.Configuration;
        var dataDirectory = configuration.GetSection(JournalOptions.Section).Get<JournalOptions>()?.DataDirectory ?? new JournalOptions().DataDirectory;
        var security = configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();
        var database = AccessDatabase.From(configuration, dataDirectory);
        var audit = new AuditTrail(database, TimeProvider.System);
        var keys = new ApiKeyStore(database, audit, TimeProvider.System);
        var actor = $"cli:{Environment.UserName}";
        var source = $"cli@{Environment.MachineName}";
        var json = new JsonSerializerOptions(ApiJson.Options) { WriteIndented = true };

        switch (command)
        {
            case "keys create":
                var request = new ApiKeyRequest(configuration["name"], configuration["role"], configuration["site"],
                    bool.TryParse(configuration["ingest-only"], out var ingestOnly) && ingestOnly);
                if (request.Problems() is { Count: > 0 } errors)
                {
                    await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, errors.Select(e => $"--{e.Key.Replace('_', '-')}: {e.Value[0]}")));
                    return 2;
                }

                var created = await keys.CreateAsync(request, actor, source);
                await Console.Error.WriteLineAsync($"Created key {created.Info.KeyId} ({created.Info.Role}{(created.Info.SiteId is { } s ? $", site {s}" : "")}" +
                    $"{(created.Info.IngestOnly ? ", ingest only" : "")}). It is shown this once:");
                Console.WriteLine(created.Key);
                return 0;
            case "keys list":
                Console.WriteLine(JsonSerializer.Serialize(await keys.ListAsync(), json));
                return 0;
            case "keys rotate":
                if (await keys.RotateAsync(args[2], actor, source) is not { } rotated)
                {
                    await Console.Error.WriteLineAsync($"No key {args[2]} that is not revoked.");
                    return 1;
                }

                await Console.Error.WriteLineAsync($"Key {args[2]} has a new secret (the old one no longer works). It is shown this once:");
                Console.WriteLine(rotated.Key);
                return 0;
            case "keys revoke":
                if (await keys.RevokeAsync(args[2], actor, source) is null)
                {
                    await Console.Error.WriteLineAsync($"No key {args[2]}.");
                    return 1;
                }

                await Console.Error.WriteLineAsync($"Key {args[2]} is revoked.");
                return 0;
            case "token":
                var roles = (configuration["role"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var hours = double.TryParse(configuration["hours"] ?? "8", NumberStyles.Float, CultureInfo.InvariantCulture, out var h) ? h : -1;
                if (string.IsNullOrWhiteSpace(configuration["subject"]) || roles.Length == 0 || roles.Any(r => !Roles.All.Contains(r)) || hours is <= 0 or > 24 * 31)
                {
                    await Console.Error.WriteLineAsync($"token: --subject and --role ({string.Join(", ", Roles.All)}) are required; --hours in (0, 744].");
                    return 2;
                }

                var signingKey = new JwtSigningKey(security.Jwt, dataDirectory);
                Console.WriteLine(signingKey.Mint(configuration["subject"]!, roles, configuration["site"], TimeSpan.FromHours(hours), DateTimeOffset.UtcNow));
                return 0;
            case "audit verify":
                var verification = await audit.VerifyAsync();
                Console.WriteLine(JsonSerializer.Serialize(verification, json));
                return verification.Valid ? 0 : 1;
            case "audit export":
                DateTimeOffset? Time(string key) => configuration[key] is { } text
                    ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal) : null;
                long after = 0;
                while (true)
                {
                    var page = await audit.QueryAsync(new AuditQuery(Time("from"), Time("to"), null, null, null, after, SecurityApi.MaxAuditPage));
                    foreach (var record in page)
                    {
                        Console.WriteLine(JsonSerializer.Serialize(record, ApiJson.Options));
                    }

                    if (page.Count < SecurityApi.MaxAuditPage)
                    {
                        return 0;
                    }

                    after = page[^1].Seq;
                }

            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
