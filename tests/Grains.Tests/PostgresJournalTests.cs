using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ClinicalTrials.Grains.Tests;

/// <summary>
/// The cluster profile's journal on a real PostgreSQL server (docs/cluster.md): what a commit answers is what is stored,
/// a message_id is stored once across all silos however their appends interleave, counts are consistent with each
/// writer's commit numbers, a patient's replay returns its later rows in order, and a commit that cannot complete
/// acknowledges nothing. Two <see cref="PostgresJournal"/>s with different writer names play two silos.
/// </summary>
public sealed class PostgresJournalTests(MigratedPostgres fixture) : IClassFixture<MigratedPostgres>
{
    private static readonly Violation HeartRateRange = new("vital_signs.heart_rate", "range", "heart_rate must be at most 300");

    private readonly string _site = NewSiteId();

    private static PostgresJournal Silo(TestPostgres postgres, string? writer = null) =>
        new(postgres.DataSource, writer ?? $"silo-{Guid.NewGuid():N}", maxEntriesPerCommit: 256, NullLogger<PostgresJournal>.Instance);

    private JournalEntry Accepted(string? patient = null, int abnormalFlags = 0) =>
        JournalRecoveryTests.AcceptedEntry(patient ?? NewPatientId(), _site, abnormalFlags);

    /// <summary>A rejection with bytes of its own (the same bytes again would be the same rejection, delivered again).</summary>
    private JournalEntry Rejected(string? patient = null, bool withId = true) => new(
        withId ? Guid.NewGuid() : null, DateTimeOffset.UtcNow, patient ?? NewPatientId(), _site, PayloadType.VitalSigns, null,
        System.Text.Encoding.UTF8.GetBytes($"{{\"heart_rate\": 900, \"n\": \"{Guid.NewGuid()}\"}}"), [HeartRateRange], 0);

    private static long Count(CounterSnapshot counters, string outcome) =>
        counters.Counters.Where(c => c.Outcome == outcome).Sum(c => c.Count);

    /// <summary>PostgreSQL keeps microseconds.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset at) => new(at.Ticks - (at.Ticks % 10), at.Offset);

    private static async Task<long> RowsWithIdAsync(TestPostgres postgres, Guid messageId) =>
        long.Parse((await postgres.RowsAsync($"SELECT count(*) FROM journal_messages WHERE message_id = '{messageId}'")).Single(), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Appended_entries_are_found_as_stored_and_counted()
    {
        var postgres = await fixture.DatabaseAsync();
        var writer = $"silo-{Guid.NewGuid():N}";
        await using var journal = Silo(postgres, writer);
        JournalEntry[] entries = [Accepted(abnormalFlags: 2), Accepted(), Rejected()];

        var appended = await journal.AppendAsync(entries);

        Assert.Equal([IngestStatus.Accepted, IngestStatus.Accepted, IngestStatus.Rejected], appended.Select(a => a.Status));
        Assert.Equal(entries.Select(e => e.Partition), appended.Select(a => a.Location));
        Assert.True(appended[0].Sequence > 0 && appended[0].Sequence < appended[1].Sequence && appended[1].Sequence < appended[2].Sequence);
        Assert.Null(journal.LastError);
        Assert.NotNull(journal.LastCommitAt);

        foreach (var entry in entries)
        {
            var found = await journal.FindAsync(entry.MessageId!.Value);
            Assert.NotNull(found);
            Assert.Equal(
                (entry.IsAccepted ? IngestStatus.Accepted : IngestStatus.Rejected, entry.PatientId, entry.SiteId, "vital_signs", Microseconds(entry.ReceivedAt), entry.Partition),
                (found.Status, found.PatientId, found.SiteId, found.PayloadType, found.ReceivedAt, found.Location));
            Assert.Equal(entry.EventTime is { } at ? Microseconds(at) : null, found.EventTime);
            Assert.Equal(entry.Violations, found.Violations);
        }

        Assert.Null(await journal.FindAsync(Guid.NewGuid()));
        var counters = await journal.CountersAsync(_site);
        Assert.Equal((2L, 2L, 1L, 0L), (Count(counters, "accepted"), Count(counters, "flagged"), Count(counters, "rejected"), Count(counters, "duplicate")));
        Assert.Equal([new ReasonRow(_site, "vital_signs.heart_rate", "range", 1)], counters.Reasons);

        // A probe writes its writer's row, and nothing that is counted.
        await journal.CheckWritableAsync();
        Assert.Equal(["1"], await postgres.RowsAsync($"SELECT count(*) FROM journal_writers WHERE writer = '{writer}' AND probed_at IS NOT NULL"));
        Assert.Equal(counters.Counters.OrderBy(c => c.Outcome), (await journal.CountersAsync(_site)).Counters.OrderBy(c => c.Outcome));
    }

    [Fact]
    public async Task A_message_id_appended_twice_is_answered_duplicate_and_stored_once()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var journal = Silo(postgres);
        var (first, inOneCommit) = (Accepted(), Accepted());
        await journal.AppendAsync([first]);

        var again = await journal.AppendAsync([first, inOneCommit, inOneCommit]);

        Assert.Equal([(IngestStatus.Duplicate, 0L), (IngestStatus.Accepted, again[1].Sequence), (IngestStatus.Duplicate, 0L)], again.Select(a => (a.Status, a.Sequence)));
        Assert.True(again[1].Sequence > 0);
        Assert.Equal(1, await RowsWithIdAsync(postgres, first.MessageId!.Value));
        Assert.Equal(1, await RowsWithIdAsync(postgres, inOneCommit.MessageId!.Value));
        var counters = await journal.CountersAsync(_site);
        Assert.Equal((2L, 2L), (Count(counters, "accepted"), Count(counters, "duplicate")));
    }

    [Fact]
    public async Task An_invalid_message_then_a_valid_one_with_its_message_id_stores_the_valid_one_and_the_invalid_one_stays_quarantined_once()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var journal = Silo(postgres);
        var patient = NewPatientId();
        var invalid = QuarantineOnceTests.Invalid(_site);
        var valid = Accepted(patient) with { MessageId = invalid.MessageId };
        var rejection = (await journal.AppendAsync([invalid]))[0];

        var corrected = (await journal.AppendAsync([valid]))[0];
        // The broker redelivers both (the silo died before its offset was committed).
        var redelivered = await journal.AppendAsync([invalid, valid]);

        Assert.Equal(IngestStatus.Rejected, rejection.Status);
        Assert.Equal(IngestStatus.Accepted, corrected.Status);
        Assert.True(corrected.Sequence > rejection.Sequence);
        Assert.Equal([IngestStatus.Duplicate, IngestStatus.Duplicate], redelivered.Select(a => a.Status));
        Assert.Equal(IngestStatus.Accepted, (await journal.FindAsync(invalid.MessageId!.Value))!.Status);
        Assert.Equal([corrected.Sequence], (await journal.ReadPatientAsync(patient, 0)).Select(m => m.Sequence));
        // The rejection stays in quarantine beside the accepted row.
        Assert.Equal(["2", "1"], await postgres.RowsAsync($"SELECT status FROM journal_messages WHERE message_id = '{invalid.MessageId}' ORDER BY sequence"));
        var counters = await journal.CountersAsync(_site);
        Assert.Equal((1L, 1L, 2L), (Count(counters, "accepted"), Count(counters, "rejected"), Count(counters, "duplicate")));
    }

    [Fact]
    public async Task The_same_invalid_message_delivered_again_is_quarantined_and_counted_once()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var journal = Silo(postgres);
        var invalid = QuarantineOnceTests.Invalid(_site);
        var first = (await journal.AppendAsync([invalid]))[0];

        // Redelivered later (a new receipt time), and twice more in one commit.
        var again = await journal.AppendAsync([invalid with { ReceivedAt = invalid.ReceivedAt.AddMinutes(3) }, invalid]);

        Assert.Equal(IngestStatus.Rejected, first.Status);
        Assert.Equal([(IngestStatus.Duplicate, 0L), (IngestStatus.Duplicate, 0L)], again.Select(a => (a.Status, a.Sequence)));
        Assert.Equal(1, await RowsWithIdAsync(postgres, invalid.MessageId!.Value));
        var counters = await journal.CountersAsync(_site);
        Assert.Equal((1L, 2L), (Count(counters, "rejected"), Count(counters, "duplicate")));
        Assert.Equal([new ReasonRow(_site, "vital_signs.heart_rate", "range", 1)], counters.Reasons);
    }

    [Fact]
    public async Task Bytes_that_are_not_json_delivered_to_two_silos_are_quarantined_and_counted_once()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var siloA = Silo(postgres);
        await using var siloB = Silo(postgres);
        var marker = Guid.NewGuid().ToString("N");
        var notJson = System.Text.Encoding.UTF8.GetBytes($"not json {marker} {{");

        var outcomes = await Task.WhenAll(
            siloA.AppendAsync([QuarantineOnceTests.Received(notJson)]), siloB.AppendAsync([QuarantineOnceTests.Received(notJson)]));
        var again = await siloA.AppendAsync([QuarantineOnceTests.Received(notJson)]);

        Assert.Equal([IngestStatus.Duplicate, IngestStatus.Rejected], outcomes.Select(o => o[0].Status).Order());
        Assert.Equal(IngestStatus.Duplicate, again[0].Status);
        Assert.Equal(["1"], await postgres.RowsAsync($"SELECT count(*) FROM journal_messages WHERE position('{marker}' in convert_from(line, 'UTF8')) > 0"));
    }

    [Fact]
    public async Task Two_different_invalid_bodies_with_one_message_id_are_two_rejections_and_the_id_shows_the_latest()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var journal = Silo(postgres);
        var id = Guid.NewGuid();
        var (first, second) = (QuarantineOnceTests.Invalid(_site, id, heartRate: 900), QuarantineOnceTests.Invalid(_site, id, heartRate: 950));

        var appended = await journal.AppendAsync([first]);
        var then = await journal.AppendAsync([second, first]);

        Assert.Equal([IngestStatus.Rejected, IngestStatus.Rejected, IngestStatus.Duplicate], appended.Concat(then).Select(a => a.Status));
        Assert.Equal(2, await RowsWithIdAsync(postgres, id));
        Assert.Equal(2, Count(await journal.CountersAsync(_site), "rejected"));
        var found = await journal.FindAsync(id);
        Assert.Equal((IngestStatus.Rejected, Microseconds(second.ReceivedAt)), (found!.Status, found.ReceivedAt));
    }

    [Fact]
    public async Task The_same_message_id_from_two_silos_at_once_is_stored_once_and_accepted_by_one()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var siloA = Silo(postgres);
        await using var siloB = Silo(postgres);

        for (var round = 0; round < 40; round++)
        {
            // Each silo appends the same ids, in the same order, one append each: their groups commit side by side.
            var entries = Enumerable.Range(0, 4).Select(_ => Accepted()).ToArray();
            var outcomes = await Task.WhenAll(entries.SelectMany(e => new[] { siloA.AppendAsync([e]), siloB.AppendAsync([e]) }));

            for (var i = 0; i < entries.Length; i++)
            {
                Assert.Equal(
                    [IngestStatus.Accepted, IngestStatus.Duplicate],
                    new[] { outcomes[2 * i][0].Status, outcomes[(2 * i) + 1][0].Status }.Order());
                Assert.Equal(1, await RowsWithIdAsync(postgres, entries[i].MessageId!.Value));
            }
        }
    }

    [Fact]
    public async Task Two_silos_committing_the_same_ids_in_opposite_orders_both_succeed()
    {
        var postgres = await fixture.DatabaseAsync();
        // Deadlocks found after 50 ms rather than the server's 1 s, to keep the test fast.
        await using var database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Options = "-c deadlock_timeout=50ms" }.ConnectionString);
        await using var siloA = new PostgresJournal(database, $"silo-{Guid.NewGuid():N}", 256, NullLogger<PostgresJournal>.Instance);
        await using var siloB = new PostgresJournal(database, $"silo-{Guid.NewGuid():N}", 256, NullLogger<PostgresJournal>.Instance);

        for (var round = 0; round < 10; round++)
        {
            // A redelivered batch reaching two silos in different orders: each commit holds the ids the other wants.
            var entries = Enumerable.Range(0, 20).Select(_ => Accepted()).ToArray();
            var outcomes = await Task.WhenAll(siloA.AppendAsync(entries), siloB.AppendAsync([.. entries.Reverse()]));

            for (var i = 0; i < entries.Length; i++)
            {
                Assert.Equal(
                    [IngestStatus.Accepted, IngestStatus.Duplicate],
                    new[] { outcomes[0][i].Status, outcomes[1][entries.Length - 1 - i].Status }.Order());
                Assert.Equal(1, await RowsWithIdAsync(postgres, entries[i].MessageId!.Value));
            }
        }
    }

    [Fact]
    public async Task A_silo_finding_its_id_in_a_rival_uncommitted_insert_waits_and_answers_duplicate()
    {
        var postgres = await fixture.DatabaseAsync();
        var writerA = $"silo-{Guid.NewGuid():N}";
        await using var siloA = Silo(postgres, writerA);
        await using var siloB = Silo(postgres);
        await siloA.AppendAsync([Accepted()]); // silo A's counter row for the site, which the test then holds
        var message = Accepted();

        await using var holder = await postgres.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        await using var hold = await holder.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await HoldCountersAsync(holder, writerA);
        var appendA = siloA.AppendAsync([message]); // inserts the row, then waits for its counter row
        await WaitingOnLockAsync(postgres, "INSERT INTO journal_counts");
        var appendB = siloB.AppendAsync([message]); // finds the id in A's uncommitted row and waits for A
        await WaitingOnLockAsync(postgres, "INSERT INTO journal_messages");
        Assert.False(appendA.IsCompleted || appendB.IsCompleted);

        await hold.CommitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(IngestStatus.Accepted, (await appendA)[0].Status);
        Assert.Equal((IngestStatus.Duplicate, 0L), ((await appendB)[0].Status, (await appendB)[0].Sequence));
        Assert.Equal(1, await RowsWithIdAsync(postgres, message.MessageId!.Value));
    }

    [Fact]
    public async Task A_silo_whose_rival_insert_rolls_back_stores_the_message_itself()
    {
        var postgres = await fixture.DatabaseAsync();
        var writerA = $"silo-{Guid.NewGuid():N}";
        await using var siloA = Silo(postgres, writerA);
        await using var siloB = Silo(postgres);
        await siloA.AppendAsync([Accepted()]);
        var countsBefore = await siloA.CountersAsync(_site);
        var message = Accepted();

        await using var holder = await postgres.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
        await using var hold = await holder.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await HoldCountersAsync(holder, writerA);
        var appendA = siloA.AppendAsync([message]);
        var pidA = await WaitingOnLockAsync(postgres, "INSERT INTO journal_counts");
        var appendB = siloB.AppendAsync([message]);
        await WaitingOnLockAsync(postgres, "INSERT INTO journal_messages");

        // Silo A's connection dies mid-commit: its transaction rolls back and B's insert goes ahead.
        await postgres.ExecuteAsync($"SELECT pg_terminate_backend({pidA})");

        await Assert.ThrowsAsync<JournalUnavailableException>(() => appendA);
        Assert.Equal(IngestStatus.Accepted, (await appendB)[0].Status);
        await hold.CommitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, await RowsWithIdAsync(postgres, message.MessageId!.Value));
        var counts = await siloA.CountersAsync(_site);
        Assert.Equal(Count(countsBefore, "accepted") + 1, Count(counts, "accepted"));
        // Silo A's refused append, retried, is the duplicate of what B stored.
        Assert.Equal(IngestStatus.Duplicate, (await siloA.AppendAsync([message]))[0].Status);
    }

    [Fact]
    public async Task Counts_from_two_silos_count_every_message_once_and_every_snapshot_is_consistent()
    {
        var postgres = await fixture.DatabaseAsync();
        var (writerA, writerB) = ($"silo-{Guid.NewGuid():N}", $"silo-{Guid.NewGuid():N}");
        await using var siloA = Silo(postgres, writerA);
        await using var siloB = Silo(postgres, writerB);
        var shared = Enumerable.Range(0, 60).Select(i => Accepted(abnormalFlags: i % 3)).ToArray();
        var ownA = Enumerable.Range(0, 10).Select(_ => Rejected()).ToArray();
        var ownB = Enumerable.Range(0, 7).Select(_ => Rejected()).ToArray();

        // Both silos append every shared message (and their own rejections), while snapshots of the counters are read.
        var appends = Task.WhenAll(
            Task.WhenAll(shared.Concat(ownA).Select(e => siloA.AppendAsync([e]))),
            Task.WhenAll(shared.Concat(ownB).Select(e => siloB.AppendAsync([e]))));
        var snapshots = new List<CounterSnapshot>();
        while (!appends.IsCompleted)
        {
            snapshots.Add(await siloA.CountersAsync(_site));
        }

        var bySilo = await appends;
        snapshots.Add(await siloB.CountersAsync(_site));
        var final = snapshots[^1];

        Assert.Equal(shared.Length, Count(final, "accepted"));
        Assert.Equal(shared.Length, Count(final, "duplicate"));
        Assert.Equal(shared.Sum(e => e.AbnormalFlags), Count(final, "flagged"));
        Assert.Equal(ownA.Length + ownB.Length, Count(final, "rejected"));
        Assert.Equal([new ReasonRow(_site, "vital_signs.heart_rate", "range", ownA.Length + ownB.Length)], final.Reasons);

        // Each writer's rows hold its own outcomes only.
        foreach (var (writer, appended) in new[] { (writerA, bySilo[0]), (writerB, bySilo[1]) })
        {
            var own = appended.Select(r => r[0]).ToList();
            Assert.Equal(
                new[] { "accepted", "duplicate", "rejected" }.Select(o => $"{o} | {own.Count(r => r.Status.ToString().Equals(o, StringComparison.OrdinalIgnoreCase))}").Where(row => !row.EndsWith(" | 0", StringComparison.Ordinal)),
                await postgres.RowsAsync($"SELECT outcome, n FROM journal_counts WHERE writer = '{writer}' AND site_id = '{_site}' AND outcome <> 'flagged' ORDER BY 1"));
        }

        // Every snapshot is one consistent moment: a message is answered duplicate only once its first copy is
        // committed, so no snapshot holds more duplicates than accepted messages, and the counts only grow.
        foreach (var (earlier, later) in snapshots.Zip(snapshots.Skip(1)))
        {
            Assert.True(Count(later, "duplicate") <= Count(later, "accepted"));
            foreach (var outcome in new[] { "accepted", "duplicate", "rejected", "flagged" })
            {
                Assert.True(Count(earlier, outcome) <= Count(later, outcome), $"{outcome} went down between two snapshots");
            }
        }
    }

    [Fact]
    public async Task Patients_with_accepted_messages_are_listed_once_in_id_order_from_every_silo()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var siloA = Silo(postgres);
        await using var siloB = Silo(postgres);
        var patients = Enumerable.Range(0, 5).Select(_ => NewPatientId()).ToList();
        await siloA.AppendAsync([Accepted(patients[0]), Accepted(patients[1]), Accepted(patients[0]), Rejected(patients[4])]);
        await siloB.AppendAsync([Accepted(patients[1]), Accepted(patients[2]), Accepted(patients[3])]);

        var expected = patients.Take(4).Order(StringComparer.Ordinal).ToList();
        var firstPage = await siloA.PatientsAsync(_site, "", 3);
        var secondPage = await siloB.PatientsAsync(_site, firstPage[^1].PatientId, 3);
        Assert.Equal(expected, [.. firstPage.Concat(secondPage).Select(p => p.PatientId)]);
        Assert.All(firstPage.Concat(secondPage), p => Assert.Equal([_site], p.SiteIds));
        Assert.Equal(4, (await siloB.PatientCountsAsync())[_site]);

        // A patient seen at another site too is listed once, with both sites; a site's list shows that site alone.
        var other = NewSiteId();
        await siloB.AppendAsync([JournalRecoveryTests.AcceptedEntry(patients[0], other)]);
        var all = await siloA.PatientsAsync(null, OrdinalBefore(patients[0]), 1);
        Assert.Equal(patients[0], all.Single().PatientId);
        Assert.Equal(new[] { _site, other }.Order(StringComparer.Ordinal), all.Single().SiteIds);
        Assert.Equal([patients[0]], (await siloA.PatientsAsync(other, "", 10)).Select(p => p.PatientId));
    }

    /// <summary>An id that sorts just before <paramref name="patientId"/>: itself with the last character one lower.</summary>
    private static string OrdinalBefore(string patientId) => patientId[..^1] + (char)(patientId[^1] - 1);

    [Fact]
    public async Task Replay_after_a_sequence_returns_exactly_the_later_rows_in_order()
    {
        var postgres = await fixture.DatabaseAsync();
        await using var siloA = Silo(postgres);
        await using var siloB = Silo(postgres);
        var (patient, other) = (NewPatientId(), NewPatientId());
        var messages = Enumerable.Range(0, 5).Select(_ => Accepted(patient)).ToArray();

        var sequences = new List<long>();
        var first = await siloA.AppendAsync([messages[0], Accepted(other), messages[1], Rejected(patient)]);
        sequences.AddRange([first[0].Sequence, first[2].Sequence]);
        sequences.Add((await siloA.AppendAsync([messages[2]]))[0].Sequence);
        // The patient's grain re-activates on silo B, which appends the rest; a redelivery of an earlier one is not replayed.
        var later = await siloB.AppendAsync([messages[3], Accepted(other), messages[1], messages[4]]);
        Assert.Equal(IngestStatus.Duplicate, later[2].Status);
        sequences.AddRange([later[0].Sequence, later[3].Sequence]);

        for (var k = 0; k <= messages.Length; k++)
        {
            var after = k == 0 ? 0 : sequences[k - 1];
            var replayed = await siloB.ReadPatientAsync(patient, after);
            Assert.Equal(sequences.Skip(k), replayed.Select(m => m.Sequence));
            Assert.Equal(messages.Skip(k).Select(m => m.Raw.ToArray()), replayed.Select(m => m.Raw));
            Assert.Equal(messages.Skip(k).Select(m => m.ReceivedAt), replayed.Select(m => m.ReceivedAt));
        }

        Assert.Empty(await siloA.ReadPatientAsync(NewPatientId(), 0));
    }

    [Fact]
    public async Task A_commit_failing_midway_stores_nothing_and_its_retry_is_accepted()
    {
        var postgres = await fixture.DatabaseAsync();
        // A fault after the messages are inserted: the counter write of writers named "doomed-..." raises.
        await postgres.ExecuteAsync("""
            CREATE OR REPLACE FUNCTION test_fail_doomed_counts() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'injected counter failure'; END $$;
            CREATE OR REPLACE TRIGGER test_fail_doomed_counts BEFORE INSERT ON journal_counts
            FOR EACH ROW WHEN (NEW.writer LIKE 'doomed-%') EXECUTE FUNCTION test_fail_doomed_counts();
            """);
        var doomedWriter = $"doomed-{Guid.NewGuid():N}";
        await using var doomed = Silo(postgres, doomedWriter);
        // A rejection whose message_id could not be read is stored too, without the id.
        JournalEntry[] entries = [Accepted(), Rejected(), Rejected(withId: false)];

        var refused = await Assert.ThrowsAsync<JournalUnavailableException>(() => doomed.AppendAsync(entries));

        Assert.Contains("injected counter failure", refused.InnerException!.Message, StringComparison.Ordinal);
        Assert.Same(refused.InnerException, doomed.LastError);
        Assert.Null(doomed.LastCommitAt);
        foreach (var entry in entries.Where(e => e.MessageId is not null))
        {
            Assert.Null(await doomed.FindAsync(entry.MessageId!.Value));
        }

        Assert.Equal(["0"], await postgres.RowsAsync($"SELECT count(*) FROM journal_messages WHERE site_id = '{_site}'"));
        var counters = await doomed.CountersAsync(_site);
        Assert.Empty(counters.Counters);

        await using var healthy = Silo(postgres);
        var retried = await healthy.AppendAsync(entries);
        Assert.Equal([IngestStatus.Accepted, IngestStatus.Rejected, IngestStatus.Rejected], retried.Select(r => r.Status));
        Assert.Equal(["3"], await postgres.RowsAsync($"SELECT count(*) FROM journal_messages WHERE site_id = '{_site}'"));
    }

    [Fact]
    public async Task After_the_database_drops_its_connections_one_failed_commit_is_all_a_client_meets()
    {
        var postgres = await fixture.DatabaseAsync();
        var name = $"journal-{Guid.NewGuid():N}"[..30];
        await using var pool = NpgsqlDataSource.Create($"{postgres.ConnectionString};Application Name={name}");
        await using var journal = new PostgresJournal(pool, "silo-restarted", maxEntriesPerCommit: 256, NullLogger<PostgresJournal>.Instance);
        var stored = Accepted();
        await journal.AppendAsync([stored]);
        // Three idle connections in the pool, as a silo that has served requests has.
        var open = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => pool.OpenConnectionAsync().AsTask()));
        foreach (var connection in open)
        {
            await connection.DisposeAsync();
        }

        // What a restart of PostgreSQL does to them: each backend is told the administrator ended it.
        await postgres.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}'");
        await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync([Accepted()]));

        // That failure cleared the pool: the next reads and commits open fresh connections instead of meeting the other dead ones.
        Assert.NotNull(await journal.FindAsync(stored.MessageId!.Value));
        Assert.Equal(IngestStatus.Accepted, (await journal.AppendAsync([Accepted()]))[0].Status);
        Assert.NotNull(await journal.FindAsync(stored.MessageId!.Value));
    }

    [Fact]
    public async Task An_unreachable_database_refuses_every_append_with_JournalUnavailableException()
    {
        // Needs no server: the data source points at a closed port.
        await using var unreachable = TestPostgres.Unreachable();
        await using var journal = new PostgresJournal(unreachable, "silo-unreachable", 256, NullLogger<PostgresJournal>.Instance);
        var entries = Enumerable.Range(0, 3).Select(_ => new[] { Accepted(), Rejected() }).ToArray();

        var appends = entries.Select(journal.AppendAsync).ToArray();

        foreach (var append in appends)
        {
            var refused = await Assert.ThrowsAsync<JournalUnavailableException>(() => append);
            Assert.IsAssignableFrom<NpgsqlException>(refused.InnerException);
        }

        Assert.IsAssignableFrom<NpgsqlException>(journal.LastError);
        Assert.Null(journal.LastCommitAt);
        await Assert.ThrowsAsync<JournalUnavailableException>(journal.CheckWritableAsync);
    }

    /// <summary>Locks <paramref name="writer"/>'s counter rows in the caller's open transaction: its next commit waits there.</summary>
    private static async Task HoldCountersAsync(NpgsqlConnection connection, string writer)
    {
        await using var command = new NpgsqlCommand("SELECT n FROM journal_counts WHERE writer = $1 FOR UPDATE", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = writer });
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Polls the server until a backend running <paramref name="statement"/> waits on a lock; returns its pid.</summary>
    private static async Task<int> WaitingOnLockAsync(TestPostgres postgres, string statement)
    {
        var waiting = await Eventually.UntilAsync(
            async () => await postgres.RowsAsync($"""
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '{statement}%'
                """) is [var pid, ..] ? pid : null,
            TimeSpan.FromSeconds(10), $"a backend waits on a lock in '{statement}'");
        return int.Parse(waiting, System.Globalization.CultureInfo.InvariantCulture);
    }
}
