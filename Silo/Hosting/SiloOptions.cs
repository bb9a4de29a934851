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
}
