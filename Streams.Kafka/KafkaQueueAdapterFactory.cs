using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>The Kafka stream provider's factory: one per provider name, created by Orleans' persistent streams.</summary>
public sealed class KafkaQueueAdapterFactory : IQueueAdapterFactory
{
    private readonly KafkaQueueMapper _mapper;
    private readonly KafkaQueueAdapterCache _cache;
    private readonly KafkaQueueAdapter _adapter;
    private readonly KafkaDeliveryFailureHandler _failures;

    public KafkaQueueAdapterFactory(string name, KafkaStreamOptions options, KafkaConsumerLag lag, ILoggerFactory loggers)
    {
        _mapper = new KafkaQueueMapper(name, options.Topics, options.Partitions);
        _cache = new KafkaQueueAdapterCache(options, _mapper, loggers);
        _adapter = new KafkaQueueAdapter(name, options, _mapper, _cache, lag, loggers);
        _failures = new KafkaDeliveryFailureHandler(loggers.CreateLogger<KafkaDeliveryFailureHandler>());
    }

    public static KafkaQueueAdapterFactory Create(IServiceProvider services, string name) => new(
        name,
        services.GetRequiredService<IOptionsMonitor<KafkaStreamOptions>>().Get(name),
        services.GetRequiredKeyedService<KafkaConsumerLag>(name),
        services.GetRequiredService<ILoggerFactory>());

    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(_adapter);

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => Task.FromResult<IStreamFailureHandler>(_failures);
}
