using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka;

/// <summary>
/// The records of one partition between the broker and their delivery, as containers (one stream's records of one
/// read) in the order of their first offsets. A container counts as delivered when its stream's cursor moves past it: the pulling agent asks a cursor for the next record of a stream only after
/// the previous one was delivered (with <c>BatchContainerBatchSize</c> 1, the default, which
/// <see cref="KafkaStreamsExtensions.AddKafkaStreams"/> keeps). Only delivered containers leave the cache, oldest first,
/// and the receiver commits up to the oldest one left. A container whose delivery failed for good stays, and the
/// partition's commits stop before it (it is read again when the partition is next assigned). Assumes one
/// subscription per stream, as implicit subscriptions give. Its size is counted in records.
/// </summary>
internal sealed class KafkaPartitionCache(KafkaPartition partition, int maxUndelivered, PartitionFlow flow, ILogger logger) : IQueueCache
{
    private readonly LinkedList<Entry> _byOffset = new();
    private readonly Dictionary<StreamId, LinkedList<Entry>> _byStream = [];
    private bool _reportedStall;

    private int _records;

    /// <summary>
    /// Never 0: the pulling agent purges only when it goes on to read, so a full cache that said 0 would never empty.
    /// A full cache stops reading through <see cref="IsUnderPressure"/>, which the agent asks after purging.
    /// </summary>
    public int GetMaxAddCount() => Math.Max(1, maxUndelivered - _records);

    public bool IsUnderPressure() => _records >= maxUndelivered;

    public void AddToCache(IList<IBatchContainer> messages)
    {
        foreach (KafkaBatchContainer container in messages)
        {
            if (!_byStream.TryGetValue(container.StreamId, out var stream))
            {
                _byStream[container.StreamId] = stream = new LinkedList<Entry>();
            }

            var entry = new Entry(container);
            _records += container.Offsets.Length;
            entry.InPartition = _byOffset.AddLast(entry);
            entry.InStream = stream.AddLast(entry);
        }

        if (IsUnderPressure())
        {
            flow.Pause();
        }
    }

    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        var purged = new List<IBatchContainer>();
        while (_byOffset.First is { Value: var head } && head.State == DeliveryState.Delivered)
        {
            _byOffset.RemoveFirst();
            _records -= head.Container.Offsets.Length;
            var stream = head.InStream!.List!;
            stream.Remove(head.InStream);
            if (stream.Count == 0)
            {
                _byStream.Remove(head.Container.StreamId);
            }

            purged.Add(head.Container);
        }

        if (_byOffset.First is { Value.State: DeliveryState.Failed } && !_reportedStall)
        {
            _reportedStall = true;
            logger.LogError("Kafka {Partition}: commits stop before offset {Offset}, whose delivery failed; it is read again when the partition is next assigned.",
                partition, _byOffset.First.Value.Container.FirstOffset);
        }

        if (_records <= maxUndelivered / 2)
        {
            flow.Resume();
        }

        purgedItems = purged;
        return purged.Count > 0;
    }

    /// <summary>
    /// A cursor whose first <see cref="IQueueCacheCursor.MoveNext"/> lands on the record at the token; without a token,
    /// after every record held now.
    /// </summary>
    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token) =>
        new Cursor(this, streamId, token is null ? LatestOffset : token.SequenceNumber - 1, token?.SequenceNumber);

    private long LatestOffset => _byOffset.Last?.Value.Container.FirstOffset ?? long.MinValue;

    /// <summary>The first record of the stream after the given offset.</summary>
    private Entry? NextOf(StreamId streamId, Entry? current, long position)
    {
        if (current?.InStream?.List is not null)
        {
            return current.InStream.Next?.Value;
        }

        if (!_byStream.TryGetValue(streamId, out var stream))
        {
            return null;
        }

        for (var node = stream.First; node is not null; node = node.Next)
        {
            if (node.Value.Container.FirstOffset > position)
            {
                return node.Value;
            }
        }

        return null;
    }

    private enum DeliveryState
    {
        Pending,
        Delivered,
        Failed,
    }

    private sealed class Entry(KafkaBatchContainer container)
    {
        public KafkaBatchContainer Container { get; } = container;

        public DeliveryState State { get; set; }

        public LinkedListNode<Entry>? InPartition { get; set; }

        public LinkedListNode<Entry>? InStream { get; set; }
    }

    private bool Holds(StreamId streamId, long offset) =>
        _byStream.TryGetValue(streamId, out var stream) && stream.Any(e => e.Container.FirstOffset == offset);

    private sealed class Cursor(KafkaPartitionCache cache, StreamId streamId, long position, long? startAt) : IQueueCacheCursor
    {
        private Entry? _current;
        private long _position = position;
        private long? _startAt = startAt;

        public IBatchContainer? GetCurrent(out Exception? exception)
        {
            exception = null;
            return _current?.Container;
        }

        public bool MoveNext()
        {
            // Asked for the next record: the current one was delivered (or its delivery failed, recorded before).
            if (_current is { State: DeliveryState.Pending })
            {
                _current.State = DeliveryState.Delivered;
            }

            // A cursor at a record that has left the cache (a subscriber resuming after a record delivered before)
            // first lands on nothing at that offset, so that moving past it never passes over a later record unseen.
            if (_startAt is { } startAt)
            {
                _startAt = null;
                if (!cache.Holds(streamId, startAt))
                {
                    _position = startAt;
                    _current = null;
                    return true;
                }
            }

            var next = cache.NextOf(streamId, _current, _position);
            _current = next;
            if (next is null)
            {
                return false;
            }

            _position = next.Container.FirstOffset;
            return true;
        }

        public QueueCacheCursorMoveResult MoveNextWithResult() =>
            MoveNext() ? QueueCacheCursorMoveResult.Success : QueueCacheCursorMoveResult.NoData;

        public void RecordDeliveryFailure()
        {
            if (_current is not null)
            {
                _current.State = DeliveryState.Failed;
            }
        }

        public void Refresh(StreamSequenceToken token)
        {
            // Positions are offsets: a record added after the cursor ran dry is found by its offset.
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>Lets a partition's cache pause and resume fetching by the receiver that reads the same partition.</summary>
internal sealed class PartitionFlow
{
    private readonly Lock _lock = new();
    private Action<bool>? _setPaused;
    private bool _paused;

    public bool Paused => _paused;

    public void Attach(Action<bool>? setPaused)
    {
        lock (_lock)
        {
            _setPaused = setPaused;
            if (_paused)
            {
                _setPaused?.Invoke(true);
            }
        }
    }

    public void Pause() => Set(true);

    public void Resume() => Set(false);

    private void Set(bool paused)
    {
        lock (_lock)
        {
            if (_paused != paused)
            {
                _paused = paused;
                _setPaused?.Invoke(paused);
            }
        }
    }
}
