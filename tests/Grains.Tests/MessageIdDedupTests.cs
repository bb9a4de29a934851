using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The ledger finds a message_id through an in-memory filter per block of 65,536 sequences and an index ordered by
/// block: a duplicate must be caught whichever block holds the first copy, and after a restart.
/// </summary>
public sealed class MessageIdDedupTests : IDisposable
{
    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Filter_names_every_block_holding_an_id_and_rarely_another(bool sequentialIds)
    {
        var next = 0L;
        Guid NewId() => sequentialIds ? new Guid(BitConverter.GetBytes(++next).Concat(new byte[8]).ToArray()) : Guid.NewGuid();
        var filter = new MessageIdFilter();
        var stored = new List<(long Sequence, Guid Id)>();
        // Two full blocks, then a few ids in blocks 63 to 65, which lie in two groups of 64 blocks.
        foreach (var sequence in Enumerable.Range(0, 2 << MessageIdFilter.BlockShift).Select(s => (long)s)
                     .Concat(Enumerable.Range(63 << MessageIdFilter.BlockShift, 3 << MessageIdFilter.BlockShift).Where(s => s % 1000 == 0).Select(s => (long)s)))
        {
            var id = NewId();
            filter.Add(sequence, id);
            stored.Add((sequence, id));
        }

        var blocks = new List<long>();
        foreach (var (sequence, id) in stored)
        {
            filter.Candidates(id, blocks);
            Assert.Contains(sequence >> MessageIdFilter.BlockShift, blocks);
        }

        var falseCandidates = 0;
        for (var i = 0; i < 100_000; i++)
        {
            filter.Candidates(NewId(), blocks);
            falseCandidates += blocks.Count;
        }

        // About 0.06 % per full block: some 115 expected for two full blocks.
        Assert.InRange(falseCandidates, 0, 400);
    }

    [Fact]
    public async Task A_message_id_is_a_duplicate_in_whichever_block_its_first_copy_is()
    {
        // A ledger whose next sequences cross from the first block into the second, its last row written earlier.
        var earlier = Guid.NewGuid();
        JournalRecoveryTests.CreateLedgerEndingAt(_data.Path, 65533, earlier);

        var (patient, site) = (NewPatientId(), NewSiteId());
        var entries = Enumerable.Range(0, 4).Select(_ => JournalRecoveryTests.AcceptedEntry(patient, site)).ToArray();
        var rejected = JournalRecoveryTests.AcceptedEntry(patient, site) with
        {
            Violations = [new Violation("vital_signs.heart_rate", "range", "heart_rate must be at most 300")],
        };
        using (var journal = JournalRecoveryTests.Open(_data.Path))
        {
            var appends = await journal.AppendAsync([.. entries, rejected]);
            Assert.Equal([65534L, 65535, 65536, 65537, 65538], appends.Select(a => a.Sequence));

            // The first copies lie in block 0 (written before this journal opened) and in block 1 (by this journal);
            // a new id twice in one commit is stored once.
            var fresh = JournalRecoveryTests.AcceptedEntry(patient, site);
            var again = await journal.AppendAsync([entries[0] with { MessageId = earlier }, entries[1], entries[3], fresh, fresh]);
            Assert.Equal(
                [IngestStatus.Duplicate, IngestStatus.Duplicate, IngestStatus.Duplicate, IngestStatus.Accepted, IngestStatus.Duplicate],
                again.Select(a => a.Status));

            // The rejected id, sent again corrected, is stored beside the rejection with a new sequence.
            var corrected = Assert.Single(await journal.AppendAsync([JournalRecoveryTests.AcceptedEntry(patient, site) with { MessageId = rejected.MessageId }]));
            Assert.Equal((IngestStatus.Accepted, 65540L), (corrected.Status, corrected.Sequence));
        }

        using var reopened = JournalRecoveryTests.Open(_data.Path);
        var afterRestart = await reopened.AppendAsync([entries[0] with { MessageId = earlier }, entries[2], entries[0] with { MessageId = rejected.MessageId }]);
        Assert.All(afterRestart, a => Assert.Equal(IngestStatus.Duplicate, a.Status));
        Assert.Equal(IngestStatus.Accepted, (await reopened.FindAsync(rejected.MessageId!.Value))!.Status);
        Assert.Equal(IngestStatus.Accepted, (await reopened.FindAsync(earlier))!.Status);
        Assert.Null(await reopened.FindAsync(Guid.NewGuid()));
    }
}
