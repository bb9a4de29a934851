using System.Net;
using System.Net.Http.Json;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;
using Npgsql;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// Secrets (keys, the token and audit checkpoint signing keys, connection-string passwords, S3 credentials) are never logged and never
/// returned by a read: a silo process configured with distinctive ones is driven through its credential paths, its
/// failures included, and everything it wrote and answered is searched for them.
/// </summary>
public sealed class SecretsTests
{
    [Fact]
    public async Task No_secret_appears_in_the_silo_log_or_in_any_answer_that_reads_configuration_or_keys()
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var postgres = await TestPostgres.CreateDatabaseAsync();
        var secrets = new Dictionary<string, string>
        {
            ["postgres password"] = $"pg-{Guid.NewGuid():N}",
            ["jwt signing key"] = $"jwt-{Guid.NewGuid():N}{Guid.NewGuid():N}",
            ["s3 secret key"] = $"s3-{Guid.NewGuid():N}",
            ["admin key"] = TestCredentials.AdminKey,
            ["forged key"] = $"ctk_00000000a11e_forged-{Guid.NewGuid():N}",
        };
        using var data = new DataDirectory();
        await using var silo = await SiloProcess.StartAsync(data.Path, cancellation,
            $"--ConnectionStrings:Postgres={new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Password = secrets["postgres password"] }}",
            $"--Security:Jwt:SigningKey={secrets["jwt signing key"]}",
            "--Storage:Provider=S3", $"--Storage:S3:ServiceUrl=http://127.0.0.1:{FreePorts.Next()}", "--Storage:S3:Bucket=secrets-test",
            "--Storage:S3:AccessKey=secrets-test", $"--Storage:S3:SecretKey={secrets["s3 secret key"]}",
            "--Pipeline:ScheduleEnabled=false");
        using var admin = silo.CreateClient();
        var answers = new List<string>();

        // A wrong secret for a real key id, then a new site key made, used, listed and rotated.
        using (var forged = new HttpClient { BaseAddress = silo.BaseAddress }.Sending(secrets["forged key"]))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await forged.PostAsync("/api/clinical/data", Json(Vitals()), cancellation)).StatusCode);
        }

        var created = await (await admin.PostAsJsonAsync("/api/admin/keys", new { name = "secrets test", role = "site", site_id = "SITE001" }, cancellation))
            .ExpectAsync(201);
        secrets["issued key"] = created.GetProperty("key").GetString()!;
        using (var site = new HttpClient { BaseAddress = silo.BaseAddress }.Sending(secrets["issued key"]))
        {
            await (await site.PostAsync("/api/clinical/data", Json(Vitals(siteId: "SITE001")), cancellation)).ExpectAsync(202);
        }

        var keyId = created.GetProperty("info").GetProperty("key_id").GetString();
        secrets["rotated key"] = (await (await admin.PostAsync($"/api/admin/keys/{keyId}/rotate", null, cancellation)).ExpectAsync(200))
            .GetProperty("key").GetString()!;
        foreach (var read in new[] { "/api/admin/keys", "/api/pipeline/doctor", "/api/clinical/health", "/health/ready", "/api/audit?limit=1000", "/api/audit/checkpoints", "/metrics" })
        {
            answers.Add($"{read}: {await (await admin.GetAsync(read, cancellation)).Content.ReadAsStringAsync(cancellation)}");
        }

        Assert.Equal(0, await silo.StopAsync(cancellation));
        // The audit checkpoint key the silo made (its public half is returned, by design): each line of the PEM's body.
        var checkpointKey = File.ReadAllLines(Path.Combine(data.Path, AuditCheckpointKey.FileName)).Where(l => !l.StartsWith("-----", StringComparison.Ordinal));
        foreach (var (line, i) in checkpointKey.Select((l, i) => (l, i)))
        {
            secrets[$"audit checkpoint key (line {i + 1})"] = line;
        }

        var log = silo.Transcript;
        foreach (var (name, secret) in secrets)
        {
            // An API key's prefix and id (ctk_{id}_) are not secret, and are logged as who called.
            var secretPart = secret.StartsWith("ctk_", StringComparison.Ordinal) ? secret[(secret.IndexOf('_', 4) + 1)..] : secret;
            Assert.False(log.Contains(secretPart, StringComparison.Ordinal), $"The silo log holds the {name}.");
            Assert.All(answers, answer => Assert.False(answer.Contains(secretPart, StringComparison.Ordinal), $"An answer holds the {name}: {answer[..answer.IndexOf(':')]}"));
        }
    }
}
