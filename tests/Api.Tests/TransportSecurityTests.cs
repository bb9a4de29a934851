using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Transport and hardening: security headers, the per-credential rate limit, HTTPS with HSTS from configuration.</summary>
public sealed class TransportSecurityTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    [Fact]
    public async Task Every_answer_carries_the_security_headers_and_api_answers_are_not_cached()
    {
        var stats = await app.Http.GetAsync("/api/clinical/stats", TestContext.Current.CancellationToken);
        using var anonymous = new HttpClient { BaseAddress = app.Http.BaseAddress };
        var live = await anonymous.GetAsync("/health/live", TestContext.Current.CancellationToken);

        foreach (var response in new[] { stats, live })
        {
            Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.RequestUri}: {response.StatusCode}");
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
            Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
            Assert.Equal("frame-ancestors 'none'", Header(response, "Content-Security-Policy"));
        }

        Assert.Equal("no-store", stats.Headers.CacheControl?.ToString());
        // Plain HTTP: no HSTS (browsers ignore it there, and it would pin a laptop's silo to HTTPS).
        Assert.False(stats.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task A_credential_over_its_rate_limit_is_answered_429_with_retry_after_and_other_callers_are_not()
    {
        using var data = new DataDirectory();
        await using var limited = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string>
        {
            ["Security:RateLimit:RequestsPerSecond"] = "1", ["Security:RateLimit:Burst"] = "3",
        });

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 30 && refused is null; i++)
        {
            var response = await limited.Http.GetAsync("/api/clinical/stats", TestContext.Current.CancellationToken);
            statuses.Add(response.StatusCode);
            refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        // The bucket starts full: the first three pass whatever the clock does; then one a second at most.
        Assert.All(statuses.Take(3), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.NotNull(refused);
        Assert.True(int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After"))) >= 1);
        var problem = await refused.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("1 requests per second", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var anonymous = limited.CreateClient(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task The_silo_serves_https_from_a_configured_certificate_with_hsts()
    {
        using var data = new DataDirectory();
        using var certificate = SelfSigned();
        var pfx = Path.Combine(data.Path, "silo.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"), TestContext.Current.CancellationToken);
        var https = new Uri($"https://127.0.0.1:{FreePorts.Next()}");

        await using var silo = await SiloProcess.StartAsync(data.Path, TestContext.Current.CancellationToken,
            $"{SiloProcess.HttpEndpointSetting}=http://127.0.0.1:{FreePorts.Next()}",
            $"--Kestrel:Endpoints:Https:Url={https}",
            $"--Kestrel:Endpoints:Https:Certificate:Path={pfx}",
            "--Kestrel:Endpoints:Https:Certificate:Password=test-password");
        using var handler = new HttpClientHandler
        {
            // Trust exactly the certificate the test made, nothing else.
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
        };
        using var client = new HttpClient(handler) { BaseAddress = https };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live") { Headers = { Host = "silo.example.org" } };

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("max-age=31536000; includeSubDomains", Header(response, "Strict-Transport-Security"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=silo.example.org", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("silo.example.org");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
