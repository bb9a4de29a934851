using System.Text;

namespace ClinicalTrials.Grains.Tests;

/// <summary>A patient's replay reads the ledger's patient index one block of 65,536 sequences at a time.</summary>
public sealed class PatientReplayTests : IDisposable
{
    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task Replay_reads_every_block_after_the_snapshot()
    {
        // A ledger whose next sequences cross from the first block into the second.
        JournalRecoveryTests.CreateLedgerEndingAt(_data.Path, 65533, Guid.NewGuid());

        using var journal = JournalRecoveryTests.Open(_data.Path);
        var (patient, site) = (NewPatientId(), NewSiteId());
        var entries = Enumerable.Range(0, 4).Select(_ => JournalRecoveryTests.AcceptedEntry(patient, site)).ToArray();

        var appends = await journal.AppendAsync(entries);

        Assert.Equal([65534L, 65535, 65536, 65537], appends.Select(a => a.Sequence));
        var bodies = entries.Select(e => Encoding.UTF8.GetString(e.Raw.Span)).ToList();
        Assert.Equal(bodies, (await journal.ReadPatientAsync(patient, 0)).Select(m => Encoding.UTF8.GetString(m.Raw)));
        Assert.Equal(bodies[2..], (await journal.ReadPatientAsync(patient, 65535)).Select(m => Encoding.UTF8.GetString(m.Raw)));
        Assert.Empty(await journal.ReadPatientAsync(patient, 65537));
    }
}
