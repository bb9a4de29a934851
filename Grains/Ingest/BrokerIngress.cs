namespace ClinicalTrials.Grains.Ingest;

/// <summary>Names shared by the brokers' stream providers and the grain that takes their messages in.</summary>
public static class BrokerIngress
{
    /// <summary>The stream namespace broker messages are delivered in; the stream key is the message's key.</summary>
    public const string StreamNamespace = "clinical-messages";

    /// <summary>The name of the Kafka stream provider.</summary>
    public const string KafkaProvider = "kafka";
}
