using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// A failure at any step of a commit, repeated, under concurrent appends: everything acknowledged is found (also after
/// a restart) with its bronze line, and nothing refused is stored: its retry is accepted afresh, never "duplicate", and
/// no line of it is left in bronze or quarantine.
/// </summary>
public sealed class JournalFaultTests : IDisposable
{
    private readonly DataDirectory _data = new();
    private readonly string _site = NewSiteId();

    public void Dispose() => _data.Dispose();

    public static TheoryData<CommitStep> Steps() => new(Enum.GetValues<CommitStep>().Where(step => step != CommitStep.TakeBack));

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_failure_at_any_step_loses_nothing_acknowledged_and_keeps_nothing_refused(CommitStep step)
    {
        // Every third time the step is reached it fails: the same fault, repeated, between successful commits.
        var faults = new Faults((at, count) => at == step && count % 3 == 1);
        await RunAsync(faults);
        Assert.True(faults.Injected >= 3, $"Only {faults.Injected} faults were injected at {step}.");
    }

    [Fact]
    public async Task A_take_back_that_fails_refuses_every_commit_until_it_succeeds()
    {
        // A WAL sync fails now and then; the removal of its rows then fails twice more before it succeeds.
        var faults = new Faults((at, count) => (at == CommitStep.WalSync && count % 4 == 2) || (at == CommitStep.TakeBack && count % 3 != 0));
        await RunAsync(faults);
        Assert.True(faults.Injected >= 6, $"Only {faults.Injected} faults were injected.");
    }

    [Fact]
    public async Task A_probe_repairs_what_a_failed_commit_left()
    {
        var failTakeBack = true;
        var faults = new Faults((at, count) => (at == CommitStep.WalSync && count == 1) || (at == CommitStep.TakeBack && failTakeBack));
        using var journal = Open(faults);
        var refused = Entry(accepted: true);
        await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync([refused]));
        await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.CheckWritableAsync());

        failTakeBack = false;
        await journal.CheckWritableAsync();
        Assert.NotNull(journal.LastError); // until a commit succeeds
        Assert.Null(await journal.FindAsync(refused.MessageId!.Value));
        var retried = await journal.AppendAsync([refused]);
        Assert.Equal(IngestStatus.Accepted, retried[0].Status);
        Assert.Null(journal.LastError);
    }

    /// <summary>
    /// Rounds of concurrent appends (accepted, rejected and repeated messages) with <paramref name="faults"/> injected,
    /// then every refused entry retried without faults, then a restart; checks the rules above.
    /// </summary>
    private async Task RunAsync(Faults faults)
    {
        var acknowledged = new Dictionary<Guid, (JournalEntry Entry, IngestStatus Status)>();
        var refused = new List<JournalEntry>();
        var sent = new List<JournalEntry>();
        var duplicates = 0;
        using (var journal = Open(faults))
        {
            for (var round = 0; round < 12; round++)
            {
                var batches = Enumerable.Range(0, 4).Select(b => Batch(round, b, sent)).ToList();
                var outcomes = await Task.WhenAll(batches.Select(async batch =>
                {
                    try
                    {
                        return (batch, await journal.AppendAsync(batch));
                    }
                    catch (JournalUnavailableException)
                    {
                        return (batch, (JournalAppend[]?)null);
                    }
                }));
                foreach (var (batch, results) in outcomes)
                {
                    if (results is null)
                    {
                        refused.AddRange(batch.Where(entry => !acknowledged.ContainsKey(entry.MessageId!.Value)));
                        continue;
                    }

                    for (var i = 0; i < batch.Count; i++)
                    {
                        if (results[i].Status == IngestStatus.Duplicate)
                        {
                            duplicates++;
                            Assert.True(acknowledged.ContainsKey(batch[i].MessageId!.Value), "A message never acknowledged was called a duplicate.");
                            continue;
                        }

                        acknowledged[batch[i].MessageId!.Value] = (batch[i], results[i].Status);
                    }

                    sent.AddRange(batch);
                }
            }

            Assert.NotEmpty(refused);
            faults.Stop();
            foreach (var entry in refused.DistinctBy(entry => entry.MessageId).Where(entry => !acknowledged.ContainsKey(entry.MessageId!.Value)))
            {
                var retried = (await journal.AppendAsync([entry]))[0];
                Assert.Equal(entry.IsAccepted ? IngestStatus.Accepted : IngestStatus.Rejected, retried.Status);
                acknowledged[entry.MessageId!.Value] = (entry, retried.Status);
            }

            await AssertStoredAsync(journal, acknowledged.Values, duplicates);
        }

        SqliteConnection.ClearAllPools();
        using var reopened = Open(JournalFaults.None);
        await AssertStoredAsync(reopened, acknowledged.Values, duplicates);
    }

    /// <summary>Each acknowledged message is found with its status; bronze and quarantine hold its line once, and nothing else.</summary>
    private async Task AssertStoredAsync(IngestJournal journal, IEnumerable<(JournalEntry Entry, IngestStatus Status)> stored, int duplicates)
    {
        var expected = stored.ToList();
        foreach (var (entry, status) in expected)
        {
            var found = await journal.FindAsync(entry.MessageId!.Value);
            Assert.NotNull(found);
            Assert.Equal(status, found.Status);
        }

        var lines = new[] { "raw", "quarantine" }
            .Select(layer => Path.Combine(_data.Path, layer))
            .Where(Directory.Exists)
            .SelectMany(layer => Directory.EnumerateFiles(layer, "*.ndjson", SearchOption.AllDirectories))
            .SelectMany(File.ReadAllLines)
            .ToList();
        var expectedLines = expected.Select(item => System.Text.Encoding.UTF8.GetString(item.Entry.Line).TrimEnd('\n')).ToList();
        Assert.Empty(expectedLines.Except(lines)); // an acknowledged message's line is missing
        Assert.Empty(lines.Except(expectedLines)); // a line of a refused commit, or a torn line, was left
        Assert.Equal(expectedLines.Count, lines.Count); // a line twice

        var counters = await journal.CountersAsync(_site);
        long Count(string outcome) => counters.Counters.Where(c => c.Outcome == outcome).Sum(c => c.Count);
        Assert.Equal(expected.Count(item => item.Status == IngestStatus.Accepted), Count("accepted"));
        Assert.Equal(expected.Count(item => item.Status == IngestStatus.Rejected), Count("rejected"));
        Assert.Equal(duplicates, Count("duplicate"));

        // The patient directory names exactly the patients of acknowledged accepted messages: a pair whose first row was
        // taken back is gone, unless a later row of it stayed.
        var listed = await journal.PatientsAsync(_site, "", int.MaxValue);
        Assert.Equal(
            expected.Where(item => item.Status == IngestStatus.Accepted).Select(item => item.Entry.PatientId!).Distinct().Order(StringComparer.Ordinal),
            listed.Select(p => p.PatientId));
        Assert.All(listed, p => Assert.Equal([_site], p.SiteIds));
        Assert.Equal(listed.Count, (await journal.PatientCountsAsync()).GetValueOrDefault(_site));
    }

    /// <summary>
    /// A batch of new accepted and rejected entries, and now and then a repeat of one sent before (accepted or rejected:
    /// either is a duplicate once stored).
    /// </summary>
    private List<JournalEntry> Batch(int round, int batch, List<JournalEntry> sent)
    {
        var entries = Enumerable.Range(0, 1 + (round * 7 + batch * 3) % 9).Select(i => Entry(accepted: i % 5 != 4)).ToList();
        if (sent.Count > 0 && batch % 2 == 0)
        {
            entries.Add(sent[(round * 31 + batch) % sent.Count]);
        }

        return entries;
    }

    private JournalEntry Entry(bool accepted) => accepted
        ? JournalRecoveryTests.AcceptedEntry(NewPatientId(), _site)
        : new JournalEntry(Guid.NewGuid(), DateTimeOffset.UtcNow, NewPatientId(), _site, PayloadType.VitalSigns, null,
            System.Text.Encoding.UTF8.GetBytes($"{{\"heart_rate\": 900, \"n\": \"{Guid.NewGuid()}\"}}"),
            [new Violation("vital_signs.heart_rate", "range", "heart_rate must be at most 300")], 0);

    private IngestJournal Open(JournalFaults faults) =>
        new(Options.Create(new JournalOptions { DataDirectory = _data.Path }), NullLogger<IngestJournal>.Instance, faults);

    /// <summary>Fails a step when <paramref name="fail"/> says so, given how often the step has been reached (from 1).</summary>
    private sealed class Faults(Func<CommitStep, int, bool> fail) : JournalFaults
    {
        private readonly int[] _reached = new int[Enum.GetValues<CommitStep>().Length];
        private volatile bool _stopped;
        private int _injected;

        public int Injected => _injected;

        public void Stop() => _stopped = true;

        public override void At(CommitStep step)
        {
            if (!_stopped && fail(step, Interlocked.Increment(ref _reached[(int)step])))
            {
                Interlocked.Increment(ref _injected);
                throw new IOException($"Injected failure at {step}.");
            }
        }
    }
}
