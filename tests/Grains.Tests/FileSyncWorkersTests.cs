using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

/// <summary>The journal's fsync threads: every file given is flushed, however many, and a failure is reported.</summary>
public sealed class FileSyncWorkersTests : IDisposable
{
    private readonly DataDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(9)]
    public void Every_file_is_flushed_in_every_round(int files)
    {
        using var workers = new FileSyncWorkers(4, "test-sync");
        var streams = Enumerable.Range(0, files).Select(i => Open($"part-{i}")).ToList();
        try
        {
            for (var round = 1; round <= 3; round++)
            {
                foreach (var stream in streams)
                {
                    stream.Write([(byte)'x', (byte)'\n']); // stays in the stream's buffer until flushed
                }

                workers.Start(streams);
                Assert.Null(workers.Wait());
                Assert.All(streams, stream => Assert.Equal(2 * round, new FileInfo(stream.Name).Length));
            }
        }
        finally
        {
            streams.ForEach(stream => stream.Dispose());
        }
    }

    [Fact]
    public void A_failed_flush_is_returned_and_the_other_files_are_still_flushed()
    {
        using var workers = new FileSyncWorkers(2, "test-sync");
        using var healthy = Open("healthy");
        var closed = Open("closed");
        closed.Dispose();
        healthy.Write([(byte)'x']);

        workers.Start([closed, healthy]);

        Assert.IsType<ObjectDisposedException>(workers.Wait());
        Assert.Equal(1, new FileInfo(healthy.Name).Length);
        healthy.Write([(byte)'y']);
        workers.Start([healthy]); // on the worker that failed
        Assert.Null(workers.Wait()); // the failure is reported once, not again
        Assert.Equal(2, new FileInfo(healthy.Name).Length);
    }

    private FileStream Open(string name) => new(Path.Combine(_data.Path, name), FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
}
