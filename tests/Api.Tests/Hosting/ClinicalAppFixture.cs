using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// The real silo application (<see cref="Program"/>) on Kestrel at a loopback port, with its own data directory and
/// Orleans ports; tests talk to it over real HTTP. One per test class.
/// </summary>
public sealed class ClinicalAppFixture : IAsyncLifetime
{
    private readonly DataDirectory _data = new();
    private ClinicalApp? _app;

    public HttpClient Http { get; private set; } = null!;

    public string DataPath => _data.Path;

    public ValueTask InitializeAsync()
    {
        _app = new ClinicalApp(_data.Path);
        _app.UseKestrel(0);
        _app.StartServer();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Http = new HttpClient { BaseAddress = new Uri(address) };
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _data.Dispose();
    }

    private sealed class ClinicalApp(string dataDirectory) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Journal:DataDirectory", dataDirectory);
            builder.UseSetting("Orleans:SiloPort", FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Orleans:GatewayPort", FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
        }
    }
}
