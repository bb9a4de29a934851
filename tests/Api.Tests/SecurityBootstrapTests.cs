using System.Net;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Secure by default: the first start makes an admin key only its owner can read; the CLI makes keys and tokens that work.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SecurityBootstrapTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_first_start_writes_an_admin_key_readable_by_its_owner_only_and_the_CLI_adds_keys_and_tokens()
    {
        using var data = new DataDirectory();
        var noPreset = new Dictionary<string, string> { [TestCredentials.Setting] = "", ["Pipeline:ScheduleEnabled"] = "false" };
        var keyFile = Path.Combine(data.Path, "admin.key");
        string adminKey;
        await using (var app = await ClinicalApp.StartAsync(data.Path, noPreset))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            adminKey = (await File.ReadAllTextAsync(keyFile, Cancellation)).Trim();
            using var admin = app.CreateClient(adminKey);
            await (await admin.GetAsync("/api/admin/keys", Cancellation)).ExpectAsync(200);
            using var none = app.CreateClient(null);
            Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync("/api/clinical/stats", Cancellation)).StatusCode);
        }

        var (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "keys", "create", "--name", "SITE9 EDC", "--role", "site", "--site", "SITE9",
            "--data-dir", data.Path);
        Assert.True(exit == 0, output);
        var siteKey = output.Split('\n').Select(l => l.Trim()).Single(l => ApiKeyStore.KeyIdOf(l) is not null);
        (exit, output) = await SiloProcess.RunToExitAsync(Cancellation, "token", "--subject", "alice", "--role", "data_manager", "--data-dir", data.Path);
        Assert.True(exit == 0, output);
        var token = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("eyJ", StringComparison.Ordinal));

        await using (var app = await ClinicalApp.StartAsync(data.Path, noPreset))
        {
            // A second start keeps the first key and makes no other.
            Assert.Equal(adminKey, (await File.ReadAllTextAsync(keyFile, Cancellation)).Trim());
            using var site = app.CreateClient(siteKey);
            await (await site.PostAsync("/api/clinical/data", TestMessages.Json(TestMessages.Vitals(siteId: "SITE9")), Cancellation)).ExpectAsync(202);
            using var staff = app.CreateClient(token);
            await (await staff.GetAsync("/api/sites/SITE9", Cancellation)).ExpectAsync(200);
            await (await staff.GetAsync("/api/models", Cancellation)).ExpectAsync(403);
            using var admin = app.CreateClient(adminKey);
            var keys = await (await admin.GetAsync("/api/admin/keys", Cancellation)).ExpectAsync(200);
            Assert.Equal(2, keys.GetArrayLength());
        }
    }

    [Fact]
    public async Task With_security_off_every_request_is_let_in()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string> { ["Security:Enabled"] = "false", ["Pipeline:ScheduleEnabled"] = "false" });
        using var none = app.CreateClient(null);
        await (await none.GetAsync("/api/admin/keys", Cancellation)).ExpectAsync(200);
        Assert.False(File.Exists(Path.Combine(data.Path, "admin.key")));
    }
}
