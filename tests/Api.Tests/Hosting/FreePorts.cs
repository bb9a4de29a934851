using System.Net;
using System.Net.Sockets;

namespace ClinicalTrials.Api.Tests.Hosting;

internal static class FreePorts
{
    /// <summary>A loopback port nobody listens on now (the OS picks it), so parallel apps do not collide.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fresh data directory, removed afterwards.</summary>
internal sealed class DataDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("clinical-api-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is going away; the temp folder is cleaned by the OS.
        }
    }
}
