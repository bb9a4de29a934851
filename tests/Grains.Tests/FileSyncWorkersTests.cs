using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The journal's write-and-fsync threads and the bronze parts they write: every part given is written in every round,
/// a failure is reported once, and a failed round's lines never stay in a file.
/// </summary>
public sealed class FileSyncWorkersTests : IDisposable
{
    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(9)]
    public void Every_part_is_written_in_every_round(int files)
    {
        using var workers = new FileSyncWorkers(4, "test-sync", JournalFaults.None);
        var parts = Enumerable.Range(0, files).Select(i => Open($"part-{i}")).ToList();
        try
        {
            for (var round = 1; round <= 3; round++)
            {
                foreach (var part in parts)
                {
                    part.Add("x\n"u8); // waits in memory until written
                }

                Assert.All(parts, part => Assert.Equal(2 * (round - 1), Length(part)));
                workers.Start(parts);
                Assert.Null(workers.Wait());
                parts.ForEach(part => part.Committed());
                Assert.All(parts, part => Assert.Equal(2 * round, Length(part)));
            }
        }
        finally
        {
            parts.ForEach(part => part.Dispose());
        }
    }

    [Fact]
    public void A_failed_write_is_returned_once()
    {
        var faults = new FailOnce(CommitStep.BronzeSync);
        using var workers = new FileSyncWorkers(2, "test-sync", faults);
        using var part = Open("part");

        part.Add("x\n"u8);
        workers.Start([part]);
        Assert.IsType<IOException>(workers.Wait());

        part.Abandon();
        part.Add("y\n"u8);
        workers.Start([part]); // on the worker that failed
        Assert.Null(workers.Wait()); // the failure is reported once, not again
        part.Committed();
        Assert.Equal("y\n", File.ReadAllText(Path.Combine(_data.Path, part.Location)));
    }

    [Fact]
    public void After_a_failure_every_other_worker_has_finished_when_wait_returns()
    {
        var faults = new FailOnce(CommitStep.BronzeWrite);
        using var workers = new FileSyncWorkers(4, "test-sync", faults);
        var parts = Enumerable.Range(0, 4).Select(i => Open($"part-{i}")).ToList();
        try
        {
            for (var round = 1; round <= 20; round++)
            {
                parts.ForEach(part => part.Add("x\n"u8));
                workers.Start(parts);
                var error = workers.Wait();
                Assert.Equal(round == 1, error is not null);
                parts.ForEach(part => part.Abandon()); // cuts off whatever the round wrote: no worker may write after it
                Assert.All(parts, part => Assert.Equal(0, Length(part)));
            }
        }
        finally
        {
            parts.ForEach(part => part.Dispose());
        }
    }

    [Fact]
    public void An_abandoned_round_is_cut_off_and_the_next_lines_follow_the_durable_ones()
    {
        using var workers = new FileSyncWorkers(1, "test-sync", JournalFaults.None);
        using var part = Open("part");
        part.Add("a\n"u8);
        workers.Start([part]);
        Assert.Null(workers.Wait());
        part.Committed();

        part.Add("lost\n"u8);
        workers.Start([part]);
        Assert.Null(workers.Wait()); // written and synced, but the commit failed elsewhere (the ledger's WAL)
        part.Abandon();
        Assert.Equal(2, Length(part));
        Assert.Equal(2, part.End);

        part.Add("b\n"u8);
        workers.Start([part]);
        Assert.Null(workers.Wait());
        part.Committed();
        Assert.Equal("a\nb\n", File.ReadAllText(Path.Combine(_data.Path, part.Location)));
    }

    private BronzePart Open(string name) => new(_data.Path, $"{name}.ndjson", 0);

    private long Length(BronzePart part) => new FileInfo(Path.Combine(_data.Path, part.Location)).Length;

    /// <summary>Fails the first time the journal reaches <paramref name="step"/>.</summary>
    private sealed class FailOnce(CommitStep step) : JournalFaults
    {
        private int _failed;

        public override void At(CommitStep at)
        {
            if (at == step && Interlocked.Exchange(ref _failed, 1) == 0)
            {
                throw new IOException($"Injected failure at {at}.");
            }
        }
    }
}
