using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;

namespace ClinicalTrials.Streams.Kafka.Tests;

/// <summary>
/// The cache decides what may be committed: a container leaves it only once its stream's cursor has moved past it,
/// which the pulling agent does only after delivering it.
/// </summary>
public sealed class KafkaPartitionCacheTests
{
    private static readonly KafkaPartition Partition = new("t", 0);

    [Fact]
    public void A_container_leaves_the_cache_only_after_every_container_before_it_was_delivered()
    {
        var cache = new KafkaPartitionCache(Partition, 100, new PartitionFlow(), NullLogger.Instance);
        cache.AddToCache([Container("A", 0, 2), Container("B", 1), Container("A", 3)]);
        var a = cache.GetCacheCursor(Stream("A"), new EventSequenceTokenV2(0));
        var b = cache.GetCacheCursor(Stream("B"), new EventSequenceTokenV2(1));

        Assert.True(Moved(a));
        Assert.Equal(0, ((KafkaBatchContainer)a.GetCurrent(out _)!).FirstOffset);
        Assert.False(cache.TryPurgeFromCache(out _)); // handed out, not yet delivered

        Assert.True(Moved(a)); // A's first container delivered; B's (offset 1) is not
        Assert.True(cache.TryPurgeFromCache(out var purged));
        Assert.Equal([0L], purged.Select(c => ((KafkaBatchContainer)c).FirstOffset));

        Assert.False(Moved(a)); // A's second container delivered, but B's still holds it back
        Assert.False(cache.TryPurgeFromCache(out _));

        Assert.True(Moved(b));
        Assert.False(Moved(b));
        Assert.True(cache.TryPurgeFromCache(out purged));
        Assert.Equal([1L, 3L], purged.Select(c => ((KafkaBatchContainer)c).FirstOffset));
    }

    [Fact]
    public void A_container_whose_delivery_failed_holds_back_every_later_one()
    {
        var cache = new KafkaPartitionCache(Partition, 100, new PartitionFlow(), NullLogger.Instance);
        cache.AddToCache([Container("A", 0), Container("A", 1)]);
        var a = cache.GetCacheCursor(Stream("A"), new EventSequenceTokenV2(0));

        Assert.True(Moved(a));
        a.RecordDeliveryFailure();
        Assert.True(Moved(a));
        Assert.False(Moved(a));

        Assert.False(cache.TryPurgeFromCache(out _));
    }

    [Fact]
    public void A_cursor_at_a_record_no_longer_held_skips_nothing_after_it()
    {
        var cache = new KafkaPartitionCache(Partition, 100, new PartitionFlow(), NullLogger.Instance);
        cache.AddToCache([Container("A", 5)]);

        // A subscriber resuming after offset 2, delivered earlier: moving past 2 must not pass over 5 unseen.
        var a = cache.GetCacheCursor(Stream("A"), new EventSequenceTokenV2(2));
        Assert.True(Moved(a));
        Assert.Null(a.GetCurrent(out _));
        Assert.True(Moved(a));
        Assert.Equal(5, ((KafkaBatchContainer)a.GetCurrent(out _)!).FirstOffset);
        Assert.False(cache.TryPurgeFromCache(out _));
    }

    [Fact]
    public void A_full_cache_pauses_its_partition_and_resumes_it_when_half_is_delivered()
    {
        var paused = new List<bool>();
        var flow = new PartitionFlow();
        flow.Attach(paused.Add);
        var cache = new KafkaPartitionCache(Partition, 4, flow, NullLogger.Instance);

        cache.AddToCache([Container("A", 0, 1, 2), Container("B", 3)]);
        Assert.True(cache.IsUnderPressure());
        Assert.Equal([true], paused);
        // The agent purges only when it goes on to read: a full cache still lets it come that far.
        Assert.True(cache.GetMaxAddCount() > 0);

        var a = cache.GetCacheCursor(Stream("A"), new EventSequenceTokenV2(0));
        Assert.True(Moved(a));
        Assert.False(Moved(a));
        Assert.True(cache.TryPurgeFromCache(out _));
        Assert.False(cache.IsUnderPressure());
        Assert.Equal([true, false], paused);
    }

    /// <summary>What the pulling agent asks a cursor for the next container.</summary>
    private static bool Moved(IQueueCacheCursor cursor) => cursor.MoveNextWithResult() == QueueCacheCursorMoveResult.Success;

    private static StreamId Stream(string key) => StreamId.Create("ns", key);

    private static KafkaBatchContainer Container(string key, params long[] offsets) =>
        new(Stream(key), offsets, offsets.Select(o => Encoding.UTF8.GetBytes($"{key}{o}")).ToArray());
}
