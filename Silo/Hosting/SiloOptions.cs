using System.Net;
using System.Net.Sockets;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>How this silo joins its cluster. The embedded default is one silo on localhost.</summary>
public sealed class SiloOptions
{
    public const string Section = "Orleans";

    /// <summary>Silo-to-silo port (Orleans' default 11111).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port for external Orleans clients (Orleans' default 30000).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address other silos reach this one on (cluster profile only); unset, the host's first non-loopback IPv4
    /// address.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    public static SiloOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<SiloOptions>() ?? new SiloOptions();

    /// <summary>
    /// One line naming a port another process already listens on, or null. Orleans listens with address reuse, so a
    /// second silo on the same ports would share them with the first (the kernel splitting connections between the
    /// two) and hang at start instead of failing; a plain listen, which never shares, finds the port taken.
    /// </summary>
    public string? PortInUse()
    {
        const int LinuxSolSocket = 1, LinuxSoReuseAddr = 2;
        foreach (var (port, what) in new[] { (SiloPort, "Orleans:SiloPort"), (GatewayPort, "Orleans:GatewayPort") })
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // Connections the port's last owner closed linger in TIME_WAIT for a minute and must not count as taken:
            // SO_REUSEADDR alone lets the bind pass them and still refuses it while anyone listens on the port. (.NET's
            // ReuseAddress option would set SO_REUSEPORT too, which shares the port with a live listener.)
            if (OperatingSystem.IsLinux())
            {
                probe.SetRawSocketOption(LinuxSolSocket, LinuxSoReuseAddr, BitConverter.GetBytes(1));
            }

            try
            {
                probe.Bind(new IPEndPoint(IPAddress.Any, port));
                probe.Listen();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return $"Port {port} ({what}) is in use by another process, perhaps another silo: stop it or give this silo other ports.";
            }
        }

        return null;
    }
}
