using System.Net.Http.Json;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>One app with a key of every role (a site key of two sites, one ingest-only), shared by the access tests.</summary>
public sealed class AccessFixture : IAsyncLifetime
{
    private readonly DataDirectory _data = new();
    private ClinicalApp? _app;

    internal ClinicalApp App => _app ?? throw new InvalidOperationException("Not started.");

    public string DataPath => _data.Path;

    public string SiteA { get; } = TestMessages.NewSiteId();

    public string SiteB { get; } = TestMessages.NewSiteId();

    /// <summary>Credentials by name: the key (or token) each sends.</summary>
    public Dictionary<string, string> Keys { get; } = [];

    public async ValueTask InitializeAsync()
    {
        _app = await ClinicalApp.StartAsync(_data.Path, new Dictionary<string, string> { ["Pipeline:ScheduleEnabled"] = "false" });
        Keys["admin"] = TestCredentials.AdminKey;
        Keys["site_a"] = await CreateAsync(new ApiKeyRequest("site A engine", Roles.Site, SiteA));
        Keys["site_b"] = await CreateAsync(new ApiKeyRequest("site B engine", Roles.Site, SiteB));
        Keys["site_b_ingest"] = await CreateAsync(new ApiKeyRequest("site B ingest", Roles.Site, SiteB, IngestOnly: true));
        Keys["data_manager"] = await CreateAsync(new ApiKeyRequest("dm", Roles.DataManager, null));
        Keys["ml_engineer"] = await CreateAsync(new ApiKeyRequest("ml", Roles.MlEngineer, null));
        Keys["auditor"] = await CreateAsync(new ApiKeyRequest("auditor", Roles.Auditor, null));
    }

    /// <summary>Creates a key through the admin API and returns it.</summary>
    public async Task<string> CreateAsync(ApiKeyRequest request)
    {
        using var response = await App.Http.PostAsJsonAsync("/api/admin/keys", request, ApiJson.Options);
        var body = await response.ExpectAsync(201);
        return body.GetProperty("key").GetString()!;
    }

    public HttpClient Client(string name) => App.CreateClient(Keys[name]);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _data.Dispose();
    }
}
