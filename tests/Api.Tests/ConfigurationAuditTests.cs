using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Every start records the configuration in the audit trail, with what changed since the start before, and never a secret.</summary>
public sealed class ConfigurationAuditTests
{
    [Fact]
    public async Task Each_start_records_its_settings_and_what_changed_without_secrets()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        var signingKey = $"signing-{Guid.NewGuid():N}{Guid.NewGuid():N}";
        var settings = new Dictionary<string, string>
        {
            ["Security:RateLimit:RequestsPerSecond"] = "4000",
            ["Security:Jwt:SigningKey"] = signingKey,
            ["ConnectionStrings:Example"] = "Host=db.example.org;Username=clinical;Password=hunter2-secret",
        };
        await (await ClinicalApp.StartAsync(data.Path, settings)).DisposeAsync();
        settings["Security:RateLimit:RequestsPerSecond"] = "3000";
        await using var app = await ClinicalApp.StartAsync(data.Path, settings);

        var records = (await (await app.Http.GetAsync("/api/audit?action=config.start", cancellation)).ExpectAsync(200)).EnumerateArray().ToList();

        Assert.Equal(2, records.Count);
        Assert.DoesNotContain(signingKey, records[1].GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", records[1].GetRawText(), StringComparison.Ordinal);
        var details = JsonDocument.Parse(records[1].GetProperty("details").GetString()!).RootElement;
        var recorded = details.GetProperty("settings");
        Assert.Equal("3000", recorded.GetProperty("Security:RateLimit:RequestsPerSecond").GetString());
        Assert.Equal("(set)", recorded.GetProperty("Security:Jwt:SigningKey").GetString());
        Assert.Contains("host=db.example.org", recorded.GetProperty("ConnectionStrings:Example").GetString(), StringComparison.OrdinalIgnoreCase);
        // The fixture gives each start fresh Orleans ports: those changed too; the unchanged settings are not listed.
        var changed = details.GetProperty("changed").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(["Orleans:GatewayPort", "Orleans:SiloPort", "Security:RateLimit:RequestsPerSecond"], changed.Keys.Order(StringComparer.Ordinal));
        var rate = changed["Security:RateLimit:RequestsPerSecond"];
        Assert.Equal(("4000", "3000"), (rate.GetProperty("before").GetString(), rate.GetProperty("after").GetString()));
        Assert.Equal("system:start", records[1].GetProperty("actor").GetString());
    }
}
