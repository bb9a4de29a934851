using System.Net;
using System.Net.Sockets;

namespace ClinicalTrials.TestSupport;

public static class FreePorts
{
    /// <summary>A loopback port nobody listens on now (the OS picks it), so parallel apps do not collide.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
