using System.Text;
using System.Threading.Channels;
using Amqp;
using Amqp.Framing;
using Amqp.Types;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Interfaces;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>
/// Reads AMQP 1.0 queues (RabbitMQ, IBM MQ, Artemis, Service Bus) into <see cref="ClinicalIngest"/>, the path HTTP
/// and Kafka take. Each message's outcome settles it: stored or a duplicate is <c>accepted</c>; rejected (quarantined
/// with its violations, so stored as far as it ever can be) is <c>rejected</c>, which the broker dead-letters where
/// the queue has a dead-letter address; not made durable now (journal or silo away) is <c>released</c>, and the broker
/// delivers it again. Nothing is settled before its outcome is durable: a silo killed at any moment leaves its
/// unsettled messages with the broker, which redelivers them (the journal answers <c>duplicate</c> for what it had
/// stored). Credit comes back only as messages are settled, so at most <see cref="AmqpIngressOptions.Credit"/> per
/// queue wait on a slow journal.
/// </summary>
/// <remarks>
/// Not an Orleans stream provider, unlike Kafka: an AMQP queue already spreads its messages over every consumer that
/// attaches (each silo attaches its own links), so Orleans' pulling agents would add nothing, and settling needs each
/// message's own outcome (accept, reject or release) on the link that delivered it, which a stream's delivered-or-not
/// cannot carry.
/// </remarks>
public sealed partial class AmqpIngress(
    ClinicalIngest ingest, IBrokerReceipts receipts, IOptions<AmqpIngressOptions> options, TimeProvider clock, IHostApplicationLifetime lifetime,
    ILogger<AmqpIngress> logger) : BackgroundService
{
    private readonly AmqpIngressOptions _options = options.Value;
    private AmqpConnectionState _state = new(false, null, null);

    /// <summary>Whether this silo is connected to the broker now, since when, and why the last connection ended.</summary>
    public AmqpConnectionState State => Volatile.Read(ref _state);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Messages go to grains: read only once the silo (a hosted service too) has started.
        await WhenStartedAsync(stoppingToken);
        var address = new Address(_options.Address);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReceiveUntilClosedAsync(address, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever broke the connection (refused, dropped, a link refused mid-attach), the silo stays up and
                // connects again; what was not settled goes back to the queue.
                LogConnectionFailed(logger, address.Host, address.Port, $"{e.GetType().Name}: {e.Message}");
                Volatile.Write(ref _state, new AmqpConnectionState(false, clock.GetUtcNow(), $"{e.GetType().Name}: {e.Message}"));
            }

            try
            {
                await Task.Delay(ReconnectDelay, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One connection: a link per queue, their deliveries batched into the ingest path until it closes.</summary>
    private async Task ReceiveUntilClosedAsync(Address address, CancellationToken stoppingToken)
    {
        var deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
        // The connection closing, or any link (a queue deleted, an attach refused), ends this connection.
        var closed = new TaskCompletionSource<Error?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connection = await new ConnectionFactory().CreateAsync(address);
        var batches = new List<Task>();
        using var inFlight = new SemaphoreSlim(_options.MaxBatchesInFlight);
        try
        {
            connection.AddClosedCallback((_, error) => closed.TrySetResult(error));
            var session = new Session(connection);
            var queues = _options.Queues.Count > 0 ? _options.Queues : [AmqpIngressOptions.DefaultQueue];
            foreach (var queue in queues)
            {
                // "queue": IBM MQ and Artemis read the address as a queue with it (IBM MQ takes a topic without).
                var source = new Source { Address = queue, Capabilities = [new Symbol("queue")] };
                var link = new ReceiverLink(session, $"clinical-ingest-{queue}-{Guid.NewGuid():N}", source, null);
                link.AddClosedCallback((_, error) => closed.TrySetResult(error));
                link.Start(0, (receiver, message) => deliveries.Writer.TryWrite(new Delivery(receiver, message, queue)));
                // Credit goes back in whole windows, once every message of the last one is settled: RabbitMQ 3.x's
                // AMQP 1.0 plugin (Debian's 3.10) sends more transfers than granted when credit is topped up while
                // deliveries are on the way (rabbitmq-server issue 2597, fixed in 4.0), and the client then closes the
                // link. Settled only after durable, so a slow journal still holds the broker back.
                link.SetCredit(_options.Credit, CreditMode.Auto, _options.Credit);
            }

            LogConnected(logger, address.Host, address.Port, string.Join(", ", queues));
            Volatile.Write(ref _state, new AmqpConnectionState(true, clock.GetUtcNow(), null));
            while (true)
            {
                var ready = deliveries.Reader.WaitToReadAsync(stoppingToken).AsTask();
                if (await Task.WhenAny(ready, closed.Task) == closed.Task)
                {
                    var error = await closed.Task;
                    var reason = error is null ? "closed" : $"{error.Condition}: {error.Description}";
                    LogConnectionClosed(logger, address.Host, address.Port, reason);
                    Volatile.Write(ref _state, new AmqpConnectionState(false, clock.GetUtcNow(), reason));
                    return;
                }

                await ready;
                await inFlight.WaitAsync(stoppingToken);
                var batch = new List<Delivery>(_options.MaxBatch);
                while (batch.Count < _options.MaxBatch && deliveries.Reader.TryRead(out var delivery))
                {
                    batch.Add(delivery);
                }

                batches.RemoveAll(b => b.IsCompleted);
                batches.Add(IngestAsync(address, batch, inFlight));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the batches being stored are settled below; what was delivered and not yet handed on stays
            // unsettled and goes back to the queue when the connection closes.
        }
        finally
        {
            await Task.WhenAll(batches);
            if (!connection.IsClosed)
            {
                await connection.CloseAsync();
            }
        }
    }

    private async Task IngestAsync(Address address, List<Delivery> batch, SemaphoreSlim inFlight)
    {
        try
        {
            var receivedAt = clock.GetUtcNow();
            IReadOnlyList<IngestResult> results;
            try
            {
                var messages = batch.Select(d => ReceivedMessage.Parse(BodyOf(d.Message), receivedAt)).ToList();
                results = await ingest.IngestAsync(messages, receivedAt);
                await receipts.RecordAsync(address.User is { Length: > 0 } user ? $"broker:amqp:{user}" : "broker:amqp",
                    $"{address.Scheme}://{address.Host}:{address.Port} {string.Join(", ", batch.Select(d => d.Queue).Distinct())}", messages, results);
            }
            catch (Exception e)
            {
                // Whatever failed (ingest, or the audit record of the receipt), nothing of the batch is settled as stored:
                // the broker delivers it again.
                if (!RetriableFailure.Is(e))
                {
                    LogIngestFailed(logger, e);
                }

                await PauseBeforeReleaseAsync();
                foreach (var delivery in batch)
                {
                    Settle(delivery, IngestStatus.Unavailable);
                }

                return;
            }

            if (results.Any(r => r.Status == IngestStatus.Unavailable))
            {
                await PauseBeforeReleaseAsync();
            }

            for (var i = 0; i < batch.Count; i++)
            {
                Settle(batch[i], results[i].Status);
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>
    /// A released message comes straight back: held (and its credit with it) for a moment first, so that a journal
    /// outage slows the broker down instead of becoming a loop of redeliveries.
    /// </summary>
    private Task PauseBeforeReleaseAsync() => Task.Delay(ReleasePause, clock);

    private void Settle(Delivery delivery, IngestStatus status)
    {
        try
        {
            switch (status)
            {
                case IngestStatus.Accepted or IngestStatus.Duplicate:
                    delivery.Link.Accept(delivery.Message);
                    break;
                case IngestStatus.Rejected:
                    // No violation text: it may quote the value, which is patient data.
                    delivery.Link.Reject(delivery.Message, new Error(InvalidMessage) { Description = "Invalid clinical message; quarantined with its violations." });
                    break;
                default:
                    delivery.Link.Release(delivery.Message);
                    break;
            }
        }
        catch (Exception e) when (e is AmqpException or ObjectDisposedException)
        {
            // The link or connection closed before the outcome reached the broker: it delivers the message again and
            // the journal answers duplicate (or quarantines it again).
            LogSettleFailed(logger, e.Message);
        }
    }

    /// <summary>The message's bytes as published: a data section, or a binary or string value. Anything else is
    /// quarantined as an empty body (not JSON).</summary>
    internal static ReadOnlyMemory<byte> BodyOf(Message message) => message.BodySection switch
    {
        Data data => data.Binary,
        AmqpValue { Value: byte[] bytes } => bytes,
        AmqpValue { Value: string text } => Encoding.UTF8.GetBytes(text),
        _ => ReadOnlyMemory<byte>.Empty,
    };

    private Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(stoppingToken);
    }

    private readonly record struct Delivery(IReceiverLink Link, Message Message, string Queue);

    private static readonly Symbol InvalidMessage = new("clinical:invalid-message");
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReleasePause = TimeSpan.FromSeconds(1);

    [LoggerMessage(LogLevel.Information, "AMQP ingress connected to {Host}:{Port}, reading {Queues}")]
    private static partial void LogConnected(ILogger logger, string host, int port, string queues);

    [LoggerMessage(LogLevel.Warning, "AMQP ingress: the connection to {Host}:{Port} closed ({Reason}); reconnecting")]
    private static partial void LogConnectionClosed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(LogLevel.Warning, "AMQP ingress: could not connect to {Host}:{Port} ({Reason}); trying again")]
    private static partial void LogConnectionFailed(ILogger logger, string host, int port, string reason);

    [LoggerMessage(LogLevel.Error, "AMQP ingress: the ingest path failed; the batch is released for redelivery")]
    private static partial void LogIngestFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Debug, "AMQP ingress: a settlement did not reach the broker ({Reason}); the message is delivered again")]
    private static partial void LogSettleFailed(ILogger logger, string reason);
}

/// <summary>The AMQP ingress's connection: up or not, since when (null before the first attempt ended), and why the last one ended.</summary>
public sealed record AmqpConnectionState(bool Connected, DateTimeOffset? Since, string? LastError);
