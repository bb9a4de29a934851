using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>One <see cref="ClinicalApp"/> shared by the tests of a class, on its own data directory.</summary>
public sealed class ClinicalAppFixture : IAsyncLifetime
{
    private readonly DataDirectory _data = new();
    private ClinicalApp? _app;

    public HttpClient Http => _app?.Http ?? throw new InvalidOperationException("The app has not started.");

    public string DataPath => _data.Path;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The app has not started.");

    public async ValueTask InitializeAsync() => _app = await ClinicalApp.StartAsync(_data.Path);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _data.Dispose();
    }
}

/// <summary>
/// The real silo application (<c>Program</c>) on Kestrel at a loopback port, with the given data directory,
/// its own Orleans ports and any further settings; tests talk to it over real HTTP.
/// </summary>
internal sealed class ClinicalApp : IAsyncDisposable
{
    private readonly Factory _factory;

    private ClinicalApp(Factory factory)
    {
        _factory = factory;
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Http = new HttpClient { BaseAddress = new Uri(address) }.Sending();
    }

    /// <summary>A client that sends the fixtures' admin key (<see cref="TestCredentials"/>).</summary>
    public HttpClient Http { get; }

    /// <summary>A client of this app that sends <paramref name="credential"/> (none when null).</summary>
    public HttpClient CreateClient(string? credential) => new HttpClient { BaseAddress = Http.BaseAddress }.Sending(credential);

    public IServiceProvider Services => _factory.Services;

    /// <param name="dataDirectory">The silo's data directory.</param>
    /// <param name="settings">Further configuration settings.</param>
    /// <param name="services">Services the test adds or replaces (a captured logger, a failing endpoint).</param>
    public static async Task<ClinicalApp> StartAsync(
        string dataDirectory, IReadOnlyDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var factory = new Factory(dataDirectory, settings ?? new Dictionary<string, string>(), services ?? (_ => { }));
            factory.UseKestrel(0);
            try
            {
                factory.StartServer();
                return new ClinicalApp(factory);
            }
            catch (Exception e) when (attempt < 3 && e.ToString().Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // An Orleans port picked as free was taken before the silo bound it: try others.
                await factory.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _factory.DisposeAsync();
    }

    private sealed class Factory(string dataDirectory, IReadOnlyDictionary<string, string> settings, Action<IServiceCollection> services)
        : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Journal:DataDirectory", dataDirectory);
            builder.UseSetting("Orleans:SiloPort", FreePorts.Next().ToString(CultureInfo.InvariantCulture));
            builder.UseSetting("Orleans:GatewayPort", FreePorts.Next().ToString(CultureInfo.InvariantCulture));
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            builder.UseSetting(TestCredentials.Setting, TestCredentials.AdminKey);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureTestServices(services);
        }
    }
}
