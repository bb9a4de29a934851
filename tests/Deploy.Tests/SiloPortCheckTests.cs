using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using ClinicalTrials.Silo.Hosting;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// The silo's start check for its Orleans ports: a port another process listens on is refused with its name; a port
/// whose last owner has just stopped, leaving closed connections in TIME_WAIT (a silo restarted on its ports), is not.
/// </summary>
public sealed class SiloPortCheckTests
{
    [Fact]
    public void A_port_another_process_listens_on_is_named()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var problem = new SiloOptions { SiloPort = port, GatewayPort = FreePorts.Next() }.PortInUse();
            Assert.Equal($"Port {port} (Orleans:SiloPort) is in use by another process, perhaps another silo: stop it or give this silo other ports.", problem);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void A_port_left_with_connections_in_time_wait_is_free()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using (var client = new TcpClient())
        {
            client.Connect(IPAddress.Loopback, port);
            using (var accepted = listener.AcceptSocket())
            {
                accepted.Close(); // the listening side closes first: its end of the connection goes to TIME_WAIT
            }

            Assert.Equal(0, client.GetStream().Read(new byte[1])); // the client sees the close, then closes too
        }

        listener.Stop();
        Assert.True(SpinWait.SpinUntil(() => IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
            .Any(c => c.LocalEndPoint.Port == port && c.State == TcpState.TimeWait), TimeSpan.FromSeconds(10)),
            "The closed connection never reached TIME_WAIT, so this test would prove nothing.");

        Assert.Null(new SiloOptions { SiloPort = port, GatewayPort = FreePorts.Next() }.PortInUse());
    }
}
