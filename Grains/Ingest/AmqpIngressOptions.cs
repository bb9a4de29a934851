namespace ClinicalTrials.Grains.Ingest;

/// <summary>The AMQP 1.0 ingress (<see cref="AmqpIngress"/>), section <c>Brokers:Amqp</c>.</summary>
public sealed class AmqpIngressOptions
{
    public const string Section = "Brokers:Amqp";

    /// <summary>
    /// The broker, <c>amqp://user:password@host:port</c>, or <c>amqps://…</c> for TLS (the server's certificate is checked
    /// against the machine's trust store). Unset: no AMQP ingress. It holds the password, so it is never logged.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>The queues read, each on a link of its own; default one, <see cref="DefaultQueue"/>.</summary>
    public List<string> Queues { get; } = [];

    /// <summary>
    /// Link credit per queue: how many messages the broker may deliver to this silo before it settles some. Credit comes
    /// back only as messages are settled (after the journal made them durable), so a slow journal slows the broker down.
    /// </summary>
    public int Credit { get; set; } = 5000;

    /// <summary>Most messages handed to the ingest path as one batch.</summary>
    public int MaxBatch { get; set; } = 1000;

    /// <summary>Batches being made durable at once (while the journal commits one, the next is read).</summary>
    public int MaxBatchesInFlight { get; set; } = 4;

    public const string DefaultQueue = "clinical-messages";

    /// <summary>What is wrong with the settings of an enabled ingress, or null.</summary>
    public string? Problem()
    {
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            return "Brokers:Amqp:Address must be amqp://[user:password@]host[:port] or amqps://….";
        }

        if (Credit < 1 || MaxBatch < 1 || MaxBatchesInFlight < 1)
        {
            return "Brokers:Amqp: Credit, MaxBatch and MaxBatchesInFlight must be positive.";
        }

        return Queues.Any(string.IsNullOrWhiteSpace) ? "Brokers:Amqp:Queues must not name an empty queue." : null;
    }
}
