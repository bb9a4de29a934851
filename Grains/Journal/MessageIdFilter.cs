using System.Buffers.Binary;
using System.Numerics;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// Which sequence blocks of the ledger may hold a message_id: one Bloom filter per block of 65,536 sequences, kept in
/// memory by the journal's writer so that a new message_id is known to be new without a look-up in a unique index
/// over every id (that index, keyed by random UUIDs, made each commit rewrite pages all over the ledger). The ledger
/// keeps a second one for the keys of its rejections (<see cref="JournalEntry.RejectionKey"/>), which are as random.
/// <para>
/// The filters of 64 consecutive blocks are stored bit-sliced: bit j of word p in a group says whether block
/// 64·group + j has position p set, so one look-up reads <see cref="Probes"/> words per group of 64 blocks whatever
/// the ledger's size. Each block's filter has 2^20 positions, 16 per id when the block is full, which makes a false
/// "may hold" about 0.06 % per block. A filter never forgets: an id whose row moved or was removed leaves a false
/// "may hold", which costs one index look-up and nothing else.
/// </para>
/// </summary>
internal sealed class MessageIdFilter
{
    /// <summary>Sequences per block: 2^16.</summary>
    public const int BlockShift = 16;

    private const int PositionBits = 20;
    private const int Probes = 8;
    private const int BlocksPerGroup = 64;

    private readonly List<ulong[]> _groups = [];

    public void Add(long sequence, Guid messageId)
    {
        var block = sequence >> BlockShift;
        var group = (int)(block / BlocksPerGroup);
        while (_groups.Count <= group)
        {
            _groups.Add(new ulong[1 << PositionBits]);
        }

        var words = _groups[group];
        var bit = 1UL << (int)(block % BlocksPerGroup);
        var (h1, h2) = Hash(messageId);
        for (var i = 0; i < Probes; i++)
        {
            words[Position(h1, h2, i)] |= bit;
        }
    }

    /// <summary>Fills <paramref name="blocks"/> with the blocks that may hold <paramref name="messageId"/>, newest first.</summary>
    public void Candidates(Guid messageId, List<long> blocks)
    {
        blocks.Clear();
        var (h1, h2) = Hash(messageId);
        for (var group = _groups.Count - 1; group >= 0; group--)
        {
            var words = _groups[group];
            var mask = ulong.MaxValue;
            for (var i = 0; i < Probes && mask != 0; i++)
            {
                mask &= words[Position(h1, h2, i)];
            }

            while (mask != 0)
            {
                var j = 63 - BitOperations.LeadingZeroCount(mask);
                blocks.Add((long)group * BlocksPerGroup + j);
                mask &= ~(1UL << j);
            }
        }
    }

    private static int Position(ulong h1, ulong h2, int i) => (int)((h1 + (ulong)i * h2) >> (64 - PositionBits));

    /// <summary>Two independent 64-bit hashes of the id (the SplitMix64 finaliser), so that ids that are not random
    /// (sequential or hand-made UUIDs) still spread over the positions.</summary>
    private static (ulong, ulong) Hash(Guid messageId)
    {
        Span<byte> bytes = stackalloc byte[16];
        messageId.TryWriteBytes(bytes);
        var low = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var high = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        return (Mix(low ^ Mix(high)), Mix((high + 0x9E3779B97F4A7C15UL) ^ low) | 1);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
