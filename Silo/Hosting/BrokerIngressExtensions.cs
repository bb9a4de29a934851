using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Streams.Kafka;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>Broker ingress, each broker switched on by its own configuration section.</summary>
public static class BrokerIngressExtensions
{
    public const string KafkaSection = "Brokers:Kafka";

    /// <summary>
    /// With <c>Brokers:Kafka:BootstrapServers</c> set, the silo reads <c>Brokers:Kafka:Topics</c> (default one topic,
    /// <c>clinical-messages</c>) as the persistent stream provider <see cref="BrokerIngress.KafkaProvider"/>; every
    /// record goes to the <see cref="BrokerIngressGrain"/> of its key.
    /// </summary>
    public static ISiloBuilder AddBrokerIngress(this ISiloBuilder silo, IConfiguration configuration)
    {
        var kafka = configuration.GetSection(KafkaSection);
        if (!string.IsNullOrWhiteSpace(kafka[nameof(KafkaStreamOptions.BootstrapServers)]))
        {
            silo.AddKafkaStreams(BrokerIngress.KafkaProvider, options => Configure(options, kafka));
        }

        if (!string.IsNullOrWhiteSpace(configuration[$"{AmqpIngressOptions.Section}:{nameof(AmqpIngressOptions.Address)}"]))
        {
            silo.Services.AddOptions<AmqpIngressOptions>().BindConfiguration(AmqpIngressOptions.Section)
                .Validate(o => o.Problem() is null, "Brokers:Amqp: Address amqp:// or amqps://; Credit, MaxBatch, MaxBatchesInFlight positive; no empty queue name.")
                .ValidateOnStart();
            silo.Services.AddSingleton<AmqpIngress>();
            silo.Services.AddHostedService(services => services.GetRequiredService<AmqpIngress>());
        }

        return silo;
    }

    /// <summary>The options of the Kafka provider from its section, with the platform's defaults.</summary>
    public static void Configure(KafkaStreamOptions options, IConfiguration section)
    {
        options.GroupId = "clinical-ingest";
        section.Bind(options);
        if (options.Topics.Count == 0)
        {
            options.Topics.Add(DefaultTopic);
        }

        options.StreamNamespace = BrokerIngress.StreamNamespace;
    }

    public const string DefaultTopic = "clinical-messages";
}
