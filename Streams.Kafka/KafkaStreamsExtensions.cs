using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

public static class KafkaStreamsExtensions
{
    /// <summary>
    /// Adds a persistent stream provider that reads the configured Kafka topics. Subscribers are implicit
    /// (<c>[ImplicitStreamSubscription(namespace)]</c>); a record's offset is committed once it and every record before it
    /// in its partition were delivered, so a silo that dies loses nothing and the records after the last commit are
    /// delivered again (subscribers must be idempotent). <see cref="KafkaConsumerLag"/> (keyed by the provider name)
    /// holds the lag of the partitions this silo reads.
    /// </summary>
    public static ISiloBuilder AddKafkaStreams(this ISiloBuilder silo, string name, Action<KafkaStreamOptions> configure)
    {
        silo.Services.AddOptions<KafkaStreamOptions>(name).Configure(configure)
            .Validate(o => o.Topics.Count > 0 && !string.IsNullOrWhiteSpace(o.BootstrapServers) && !string.IsNullOrWhiteSpace(o.GroupId)
                           && !string.IsNullOrWhiteSpace(o.StreamNamespace) && o.Partitions > 0 && o.MaxUndeliveredPerPartition > 0 && o.MaxRecordsPerRead > 0,
                $"Kafka stream provider '{name}' needs BootstrapServers, GroupId, StreamNamespace, at least one topic and positive Partitions, MaxUndeliveredPerPartition and MaxRecordsPerRead.")
            .ValidateOnStart();
        silo.Services.AddKeyedSingleton(name, (_, _) => new KafkaConsumerLag(name));
        silo.AddPersistentStreams(name, KafkaQueueAdapterFactory.Create, streams =>
        {
            streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            streams.ConfigurePullingAgent(agent => agent.Configure(o =>
            {
                // The cache counts a record delivered when its stream's cursor asks for the next one; with batches of
                // containers the agent would ask before delivering.
                o.BatchContainerBatchSize = 1;
                o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20);
                // A subscriber that cannot store a record (its store is away) is retried this long before the
                // record is left uncommitted.
                o.MaxEventDeliveryTime = TimeSpan.FromMinutes(10);
            }));
        });
        return silo;
    }

}
