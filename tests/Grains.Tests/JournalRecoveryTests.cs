using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The journal syncs the bronze files and the ledger at the same time, so a power loss can keep ledger rows of the
/// last commit whose lines never reached the disk. Such a crash is reproduced by copying the data directory while the
/// journal runs (what the disk would hold) and cutting the bronze files back to where they ended before that commit.
/// </summary>
public sealed class JournalRecoveryTests : IDisposable
{
    private readonly DataDirectory _data = new();
    private readonly string _site = NewSiteId();

    public void Dispose() => _data.Dispose();

    internal static IngestJournal Open(string directory) =>
        new(Options.Create(new JournalOptions { DataDirectory = directory }), NullLogger<IngestJournal>.Instance);

    /// <summary>
    /// Creates a ledger in <paramref name="directory"/> whose last row, written by an earlier run, is an accepted
    /// message of another patient at <paramref name="sequence"/>; the journal is not open.
    /// </summary>
    internal static void CreateLedgerEndingAt(string directory, long sequence, Guid messageId)
    {
        Open(directory).Dispose();
        using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "ledger.db")};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO messages (seq, message_id, status, patient_id, site_id, payload_type, received_at, location, offset, length)
            VALUES ($seq, $id, 1, 'PT0THER00', 'SITE001', 'vital_signs', 0, 'raw/elsewhere.ndjson', 0, 1);
            UPDATE meta SET value = $seq WHERE key = 'verified_through';
            """;
        command.Parameters.AddWithValue("$seq", sequence);
        command.Parameters.AddWithValue("$id", messageId.ToByteArray());
        command.ExecuteNonQuery();
    }

    /// <summary>An accepted vital-signs message of <paramref name="patient"/>, as a grain hands it to the journal.</summary>
    internal static JournalEntry AcceptedEntry(string patient, string site, int abnormalFlags = 0)
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var raw = Encoding.UTF8.GetBytes(Vitals(patient, site, at, 72).ToJsonString());
        return new JournalEntry(Guid.NewGuid(), DateTimeOffset.UtcNow, patient, site, PayloadType.VitalSigns, at, raw, [], abnormalFlags);
    }

    private JournalEntry Accepted(int abnormalFlags = 0) => AcceptedEntry(NewPatientId(), _site, abnormalFlags);

    /// <summary>A rejection with bytes of its own (the same bytes again would be the same rejection, delivered again).</summary>
    private JournalEntry Rejected() => new(
        Guid.NewGuid(), DateTimeOffset.UtcNow, NewPatientId(), _site, PayloadType.VitalSigns, null,
        Encoding.UTF8.GetBytes($"{{\"heart_rate\": 900, \"n\": \"{Guid.NewGuid()}\"}}"),
        [new Violation("vital_signs.heart_rate", "range", "heart_rate must be at most 300")], 0);

    /// <summary>Every bronze and quarantine file with its length.</summary>
    private static Dictionary<string, long> LineFiles(string directory) =>
        new[] { "raw", "quarantine" }
            .Select(layer => Path.Combine(directory, layer))
            .Where(Directory.Exists)
            .SelectMany(layer => Directory.EnumerateFiles(layer, "*.ndjson", SearchOption.AllDirectories))
            .ToDictionary(path => Path.GetRelativePath(directory, path), path => new FileInfo(path).Length);

    /// <summary>The data directory as the disk holds it now, with the line files cut back to <paramref name="linesOnDisk"/>.</summary>
    private string CrashImage(Dictionary<string, long>? linesOnDisk)
    {
        var image = Path.Combine(_data.Path, "image");
        foreach (var name in new[] { "ledger.db-wal", "ledger.db" })
        {
            File.Copy(Path.Combine(_data.Path, "live", name), Path.Combine(image, name));
        }

        foreach (var (file, length) in LineFiles(Path.Combine(_data.Path, "live")))
        {
            var target = Path.Combine(image, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(_data.Path, "live", file), target);
            if (linesOnDisk is not null)
            {
                using var stream = new FileStream(target, FileMode.Open);
                stream.SetLength(linesOnDisk.GetValueOrDefault(file));
            }
        }

        return image;
    }

    private static long Count(CounterSnapshot counters, string outcome) =>
        counters.Counters.Where(c => c.Outcome == outcome).Sum(c => c.Count);

    private async Task<(JournalEntry[] First, JournalEntry[] Last, string Image)> CrashAfterTwoCommitsAsync(bool lastLinesLost)
    {
        Directory.CreateDirectory(Path.Combine(_data.Path, "image"));
        using var live = Open(Path.Combine(_data.Path, "live"));
        JournalEntry[] first = [Accepted(abnormalFlags: 2), Accepted(), Rejected()];
        JournalEntry[] last = [Accepted(abnormalFlags: 1), Rejected()];
        await live.AppendAsync(first);
        var linesAfterFirst = LineFiles(Path.Combine(_data.Path, "live"));
        await live.AppendAsync(last);
        return (first, last, CrashImage(lastLinesLost ? linesAfterFirst : null));
    }

    [Fact]
    public async Task Rows_whose_lines_never_reached_the_disk_are_removed_with_their_counts()
    {
        var (first, last, image) = await CrashAfterTwoCommitsAsync(lastLinesLost: true);

        using var journal = Open(image);

        foreach (var entry in first)
        {
            Assert.NotNull(await journal.FindAsync(entry.MessageId!.Value));
        }

        foreach (var entry in last)
        {
            Assert.Null(await journal.FindAsync(entry.MessageId!.Value));
        }

        var counters = await journal.CountersAsync(_site);
        Assert.Equal(2, Count(counters, "accepted"));
        Assert.Equal(2, Count(counters, "flagged"));
        Assert.Equal(1, Count(counters, "rejected"));
        Assert.Equal(1, Assert.Single(counters.Reasons).Count);

        // The lost messages were never acknowledged: the client's retry is stored, not called a duplicate.
        var retry = await journal.AppendAsync(last);
        Assert.Equal([IngestStatus.Accepted, IngestStatus.Rejected], retry.Select(r => r.Status));
        Assert.Equal(3, Count(await journal.CountersAsync(_site), "accepted"));
        var replayed = await journal.ReadPatientAsync(last[0].PatientId!, 0);
        Assert.Equal(last[0].Raw.ToArray(), Assert.Single(replayed).Raw);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_rejection_without_message_id_is_counted_once_whether_its_line_was_lost_or_kept(bool lineLost)
    {
        Directory.CreateDirectory(Path.Combine(_data.Path, "image"));
        var notJson = QuarantineOnceTests.Received(Encoding.UTF8.GetBytes($"not json {Guid.NewGuid()} {{"));
        string image;
        using (var live = Open(Path.Combine(_data.Path, "live")))
        {
            await live.AppendAsync([Accepted()]);
            var linesBefore = LineFiles(Path.Combine(_data.Path, "live"));
            await live.AppendAsync([notJson]);
            image = CrashImage(lineLost ? linesBefore : null);
        }

        using var journal = Open(image);
        Assert.Equal(lineLost ? 0 : 1, QuarantineOnceTests.Count(await journal.CountersAsync("unknown"), "rejected"));

        // Redelivered, as the message was never acknowledged: quarantined again only if its line was lost.
        var redelivered = Assert.Single(await journal.AppendAsync([notJson]));

        Assert.Equal(lineLost ? IngestStatus.Rejected : IngestStatus.Duplicate, redelivered.Status);
        Assert.Equal(1, QuarantineOnceTests.Count(await journal.CountersAsync("unknown"), "rejected"));
    }

    [Fact]
    public async Task Rows_whose_lines_are_on_disk_are_kept()
    {
        var (first, last, image) = await CrashAfterTwoCommitsAsync(lastLinesLost: false);

        using var journal = Open(image);

        foreach (var entry in first.Concat(last))
        {
            Assert.NotNull(await journal.FindAsync(entry.MessageId!.Value));
        }

        var counters = await journal.CountersAsync(_site);
        Assert.Equal(3, Count(counters, "accepted"));
        Assert.Equal(3, Count(counters, "flagged"));
        Assert.Equal(2, Count(counters, "rejected"));
        Assert.Equal(
            [IngestStatus.Duplicate],
            (await journal.AppendAsync([last[0]])).Select(r => r.Status));
    }

    [Fact]
    public async Task A_ledger_written_before_rows_were_verified_is_taken_as_verified()
    {
        var directory = Path.Combine(_data.Path, "earlier");
        Directory.CreateDirectory(directory);
        var messageId = Guid.NewGuid();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "ledger.db")};Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // The schema of earlier builds: message_id UNIQUE, no flags column, no verified_through; the row's bronze
            // file is gone (retention), which must not make the new build take it for a lost line.
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE messages (
                    seq INTEGER PRIMARY KEY, message_id BLOB NOT NULL UNIQUE, status INTEGER NOT NULL,
                    patient_id TEXT, site_id TEXT, payload_type TEXT, received_at INTEGER NOT NULL, event_time INTEGER,
                    location TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, violations TEXT);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO meta VALUES ('generation', 1);
                INSERT INTO messages VALUES (1, $id, 1, 'PT00000001', 'SITE001', 'vital_signs', 0, 0, 'raw/vital_signs/date=2025-01-01/hour=00/part-old-000.ndjson', 0, 100, NULL);
                """;
            command.Parameters.AddWithValue("$id", messageId.ToByteArray());
            command.ExecuteNonQuery();
        }

        using var journal = Open(directory);

        Assert.Equal(IngestStatus.Accepted, (await journal.FindAsync(messageId))!.Status);
        var appended = await journal.AppendAsync([Accepted(abnormalFlags: 1), Accepted() with { MessageId = messageId }]);
        Assert.Equal([(IngestStatus.Accepted, 2L), (IngestStatus.Duplicate, 0L)], appended.Select(a => (a.Status, a.Sequence)));
    }

    [Fact]
    public async Task A_restart_after_a_clean_stop_keeps_every_row()
    {
        var live = Path.Combine(_data.Path, "live");
        JournalEntry[] entries = [Accepted(), Accepted(), Rejected()];
        using (var journal = Open(live))
        {
            await journal.AppendAsync(entries);
        }

        using var reopened = Open(live);
        foreach (var entry in entries)
        {
            Assert.NotNull(await reopened.FindAsync(entry.MessageId!.Value));
        }

        Assert.Equal(2, Count(await reopened.CountersAsync(_site), "accepted"));
    }
}
