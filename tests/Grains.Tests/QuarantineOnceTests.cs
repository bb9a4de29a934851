using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The embedded journal quarantines and counts a rejected message once however often it is delivered (a broker's
/// redelivery after a crash, a client's resend), as it stores an accepted message_id once: a rejection is known by the
/// SHA-256 of its bytes as received, and a repeat is answered duplicate. The cluster journal's twins are in
/// <see cref="PostgresJournalTests"/>.
/// </summary>
public sealed class QuarantineOnceTests : IDisposable
{
    private readonly DataDirectory _data = new();
    private readonly string _site = NewSiteId();

    public void Dispose() => _data.Dispose();

    /// <summary>An out-of-range message as the ingest path hands it to the journal, parsed from its bytes.</summary>
    internal static JournalEntry Invalid(string site, Guid? messageId = null, double heartRate = 900, DateTimeOffset? receivedAt = null) =>
        Received(Encoding.UTF8.GetBytes(HeartRateOnly(heartRate, site, NewPatientId(), DateTimeOffset.UtcNow.AddMinutes(-5), messageId).ToJsonString()), receivedAt);

    /// <summary>Bytes as a broker delivers them, judged by the parser, for the journal.</summary>
    internal static JournalEntry Received(byte[] raw, DateTimeOffset? receivedAt = null)
    {
        var at = receivedAt ?? DateTimeOffset.UtcNow;
        var parsed = ClinicalMessageParser.Parse(raw, at);
        Assert.False(parsed.IsValid);
        return JournalEntry.Rejected(parsed, raw, at);
    }

    internal static long Count(CounterSnapshot counters, string outcome) =>
        counters.Counters.Where(c => c.Outcome == outcome).Sum(c => c.Count);

    /// <summary>The quarantine lines holding <paramref name="text"/>.</summary>
    private int QuarantineLinesHolding(string text) =>
        !Directory.Exists(Path.Combine(_data.Path, "quarantine")) ? 0
            : Directory.EnumerateFiles(Path.Combine(_data.Path, "quarantine"), "*.ndjson", SearchOption.AllDirectories)
                .SelectMany(File.ReadLines).Count(line => line.Contains(text, StringComparison.Ordinal));

    [Fact]
    public async Task The_same_invalid_message_delivered_again_is_quarantined_and_counted_once()
    {
        using var journal = JournalRecoveryTests.Open(_data.Path);
        var invalid = Invalid(_site);
        var first = Assert.Single(await journal.AppendAsync([invalid]));

        // Redelivered later (a new receipt time), and twice more in one commit.
        var again = await journal.AppendAsync([invalid with { ReceivedAt = invalid.ReceivedAt.AddMinutes(3) }, invalid]);

        Assert.Equal(IngestStatus.Rejected, first.Status);
        Assert.Equal([(IngestStatus.Duplicate, 0L), (IngestStatus.Duplicate, 0L)], again.Select(a => (a.Status, a.Sequence)));
        Assert.Equal(1, QuarantineLinesHolding(invalid.MessageId!.Value.ToString()));
        var counters = await journal.CountersAsync(_site);
        Assert.Equal((1L, 2L), (Count(counters, "rejected"), Count(counters, "duplicate")));
        Assert.Equal(1, Assert.Single(counters.Reasons).Count);
        Assert.Equal(IngestStatus.Rejected, (await journal.FindAsync(invalid.MessageId!.Value))!.Status);
    }

    [Fact]
    public async Task Bytes_that_are_not_json_delivered_twice_are_quarantined_and_counted_once()
    {
        using var journal = JournalRecoveryTests.Open(_data.Path);
        var marker = Guid.NewGuid().ToString("N");
        var notJson = Encoding.UTF8.GetBytes($"not json {marker} {{");
        var other = Encoding.UTF8.GetBytes($"not json either {marker}");

        var appended = await journal.AppendAsync([Received(notJson), Received(other)]);
        var again = await journal.AppendAsync([Received(notJson), Received((byte[])notJson.Clone())]);

        Assert.Equal([IngestStatus.Rejected, IngestStatus.Rejected], appended.Select(a => a.Status));
        Assert.Equal([IngestStatus.Duplicate, IngestStatus.Duplicate], again.Select(a => a.Status));
        Assert.Equal(2, QuarantineLinesHolding(marker));
        var counters = await journal.CountersAsync("unknown");
        Assert.Equal((2L, 2L), (Count(counters, "rejected"), Count(counters, "duplicate")));
    }

    [Fact]
    public async Task An_invalid_message_then_a_valid_one_with_its_message_id_stores_the_valid_one_and_the_invalid_one_stays_quarantined_once()
    {
        using var journal = JournalRecoveryTests.Open(_data.Path);
        var patient = NewPatientId();
        var invalid = Invalid(_site);
        var valid = JournalRecoveryTests.AcceptedEntry(patient, _site) with { MessageId = invalid.MessageId };

        var rejection = Assert.Single(await journal.AppendAsync([invalid]));
        var stored = Assert.Single(await journal.AppendAsync([valid]));
        // The broker redelivers both (the silo died before its offset was committed).
        var redelivered = await journal.AppendAsync([invalid, valid]);

        Assert.Equal(IngestStatus.Rejected, rejection.Status);
        Assert.Equal(IngestStatus.Accepted, stored.Status);
        Assert.True(stored.Sequence > rejection.Sequence);
        Assert.Equal([IngestStatus.Duplicate, IngestStatus.Duplicate], redelivered.Select(a => a.Status));
        Assert.Equal(IngestStatus.Accepted, (await journal.FindAsync(invalid.MessageId!.Value))!.Status);
        Assert.Equal([stored.Sequence], (await journal.ReadPatientAsync(patient, 0)).Select(m => m.Sequence));
        Assert.Equal(1, QuarantineLinesHolding(invalid.MessageId!.Value.ToString()));
        var counters = await journal.CountersAsync(_site);
        Assert.Equal((1L, 1L, 2L), (Count(counters, "accepted"), Count(counters, "rejected"), Count(counters, "duplicate")));
    }

    [Fact]
    public async Task Two_different_invalid_bodies_with_one_message_id_are_two_rejections_and_the_id_shows_the_latest()
    {
        using var journal = JournalRecoveryTests.Open(_data.Path);
        var id = Guid.NewGuid();
        var (first, second) = (Invalid(_site, id, heartRate: 900), Invalid(_site, id, heartRate: 950));

        var appended = await journal.AppendAsync([first]);
        var then = await journal.AppendAsync([second, first]);

        Assert.Equal([IngestStatus.Rejected, IngestStatus.Rejected, IngestStatus.Duplicate], appended.Concat(then).Select(a => a.Status));
        Assert.Equal(2, QuarantineLinesHolding(id.ToString()));
        Assert.Equal(2, Count(await journal.CountersAsync(_site), "rejected"));
        Assert.Equal(then[0].Location, (await journal.FindAsync(id))!.Location);
    }

    [Fact]
    public async Task Two_different_bodies_quarantined_without_their_direct_identifiers_are_two_rejections()
    {
        using var journal = JournalRecoveryTests.Open(_data.Path);
        var parsed = new ParseResult(null, [new Violation("adverse_event.description", Rules.DirectIdentifier, "holds an e-mail address")],
            null, _site, NewPatientId(), PayloadType.AdverseEvent);
        JournalEntry Holding(string identifier) =>
            JournalEntry.Rejected(parsed, Encoding.UTF8.GetBytes($"{{\"description\":\"{identifier}\"}}"), DateTimeOffset.UtcNow);

        var appended = await journal.AppendAsync([Holding("a@example.org"), Holding("b@example.org"), Holding("a@example.org")]);

        Assert.Equal([IngestStatus.Rejected, IngestStatus.Rejected, IngestStatus.Duplicate], appended.Select(a => a.Status));
        Assert.Equal(2, Count(await journal.CountersAsync(_site), "rejected"));
    }

    [Fact]
    public async Task A_rejection_is_known_again_after_a_restart_and_in_another_sequence_block()
    {
        // The ledger's next sequences cross from the first block into the second.
        JournalRecoveryTests.CreateLedgerEndingAt(_data.Path, 65534, Guid.NewGuid());
        var (inFirstBlock, inSecondBlock) = (Invalid(_site), Invalid(_site));
        using (var journal = JournalRecoveryTests.Open(_data.Path))
        {
            var appended = await journal.AppendAsync([inFirstBlock, inSecondBlock]);
            Assert.Equal([65535L, 65536], appended.Select(a => a.Sequence));
        }

        using var reopened = JournalRecoveryTests.Open(_data.Path);
        var again = await reopened.AppendAsync([inSecondBlock, inFirstBlock, Invalid(_site)]);

        Assert.Equal([IngestStatus.Duplicate, IngestStatus.Duplicate, IngestStatus.Rejected], again.Select(a => a.Status));
        Assert.Equal(3, Count(await reopened.CountersAsync(_site), "rejected"));
    }
}
