using System.Data.Common;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// Records the silo's configuration at every start in the audit trail (<c>config.start</c>), with what changed since
/// the start before: who runs the platform with which settings is part of what happened. Only the platform's own
/// sections are recorded; a secret is recorded as <c>(set)</c> and a connection string without its password, so the
/// trail never holds one (and a changed secret shows only when it is set or removed).
/// </summary>
internal sealed partial class ConfigurationAudit(IConfiguration configuration, AuditTrail trail) : IHostedService
{
    public const string Action = "config.start";

    private const string Secret = "(set)";

    /// <summary>The top-level sections the platform's options are bound from.</summary>
    private static readonly string[] Sections =
        ["Brokers", "Cluster", "ConnectionStrings", "Emr", "Journal", "Kestrel", "Monitoring", "OnlineStore", "Orleans", "Pipeline", "Predictions", "Security", "Storage"];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = Settings(configuration);
        var before = await PreviousAsync(cancellationToken);
        var changed = settings.Keys.Union(before?.Keys ?? Enumerable.Empty<string>()).Order(StringComparer.Ordinal)
            .Where(key => before is null || settings.GetValueOrDefault(key) != before.GetValueOrDefault(key))
            .ToDictionary(key => key, key => new { before = before?.GetValueOrDefault(key), after = settings.GetValueOrDefault(key) });
        await trail.AppendAsync(new AuditEntry("system:start", Action, null, "succeeded", Environment.MachineName,
            JsonSerializer.Serialize(new { settings, changed })));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The recorded settings, keyed by their full configuration path.</summary>
    public static SortedDictionary<string, string> Settings(IConfiguration configuration)
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var section in Sections)
        {
            foreach (var (key, value) in configuration.GetSection(section).AsEnumerable())
            {
                if (value is not null)
                {
                    settings[key] = key.StartsWith("ConnectionStrings:", StringComparison.OrdinalIgnoreCase) ? WithoutPassword(value)
                        : SecretName().IsMatch(key[(key.LastIndexOf(':') + 1)..]) ? Secret
                        : value;
                }
            }
        }

        return settings;
    }

    private async Task<Dictionary<string, string>?> PreviousAsync(CancellationToken cancellationToken)
    {
        AuditRecord? last = null;
        for (var after = 0L; ; after = last.Seq)
        {
            var page = await trail.QueryAsync(new AuditQuery(null, null, null, Action, null, after, 1000), cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            last = page[^1];
        }

        return last?.Details is { } details
            ? JsonDocument.Parse(details).RootElement.GetProperty("settings").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
            : null;
    }

    private static string WithoutPassword(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            foreach (var key in builder.Keys.Cast<string>().Where(k => SecretName().IsMatch(k.Replace(" ", "", StringComparison.Ordinal))).ToList())
            {
                builder[key] = Secret;
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return Secret; // not key=value pairs (a Redis address list with options): recorded as set only
        }
    }

    [GeneratedRegex("key|secret|password|pwd|token|credential", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();
}
