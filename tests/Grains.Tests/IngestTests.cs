using System.Text;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

public sealed class IngestTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClinicalCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task Duplicate_message_id_is_stored_once()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var message = Vitals(patient, site, DateTimeOffset.UtcNow.AddMinutes(-10), 72).ToJsonString();

        var first = Assert.Single(await _cluster.IngestAsync(message));
        var second = Assert.Single(await _cluster.IngestAsync(message));

        Assert.Equal(IngestStatus.Accepted, first.Status);
        Assert.Equal(IngestStatus.Duplicate, second.Status);
        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Null(second.Location);

        var counters = await _cluster.Journal.CountersAsync(site);
        Assert.Equal(1, counters.Counters.Single(c => c.Outcome == "accepted").Count);
        Assert.Equal(1, counters.Counters.Single(c => c.Outcome == "duplicate").Count);
        var record = await _cluster.Journal.FindAsync(first.MessageId!.Value);
        Assert.Equal(IngestStatus.Accepted, record!.Status);
        Assert.Equal(first.Location, record.Location);
        Assert.Single(await _cluster.Journal.ReadPatientAsync(patient, 0));
        Assert.Single(BronzeLines(first.MessageId.Value));

        var summary = await _cluster.Client.GetGrain<IPatientGrain>(patient).GetSummaryAsync();
        Assert.Equal(1, summary!.MessageCounts["vital_signs"]);
    }

    [Fact]
    public async Task Duplicate_within_one_batch_is_stored_once()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var message = Vitals(patient, site, DateTimeOffset.UtcNow.AddMinutes(-10), 72).ToJsonString();

        var results = await _cluster.IngestAsync(message, message);

        Assert.Equal([IngestStatus.Accepted, IngestStatus.Duplicate], results.Select(r => r.Status));
        Assert.Single(await _cluster.Journal.ReadPatientAsync(patient, 0));
        var summary = SiteSummary.From(site, await _cluster.Journal.CountersAsync(site));
        Assert.Equal(1, summary.Accepted["vital_signs"]);
        Assert.Equal(1, summary.Duplicates["vital_signs"]);
    }

    [Fact]
    public async Task Latest_vitals_follow_clinical_time_when_an_older_message_arrives_late()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var newer = DateTimeOffset.UtcNow.AddHours(-1);
        var older = newer.AddHours(-3);

        await _cluster.IngestAsync(Vitals(patient, site, newer, 88).ToJsonString());
        await _cluster.IngestAsync(Vitals(patient, site, older, 61).ToJsonString());

        var summary = await _cluster.Client.GetGrain<IPatientGrain>(patient).GetSummaryAsync();
        Assert.NotNull(summary);
        Assert.Equal(88, summary.LatestVitals["heart_rate"].Value);
        Assert.Equal(newer, summary.LatestVitals["heart_rate"].At);
        Assert.Equal(older, summary.FirstEventAt);
        Assert.Equal(newer, summary.LastEventAt);
        Assert.Equal(2, summary.MessageCounts["vital_signs"]);
    }

    [Fact]
    public async Task Lab_values_are_kept_in_standard_units()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());

        await _cluster.IngestAsync(Labs(patient, site, DateTimeOffset.UtcNow.AddMinutes(-5), "GLUC", 5.5, "mmol/L").ToJsonString());

        var glucose = (await _cluster.Client.GetGrain<IPatientGrain>(patient).GetSummaryAsync())!.LatestLabs["GLUC"];
        Assert.Equal("mg/dL", glucose.Unit);
        Assert.Equal(99.088, glucose.Value, precision: 3);
    }

    [Fact]
    public async Task Patient_without_data_has_no_summary()
    {
        Assert.Null(await _cluster.Client.GetGrain<IPatientGrain>(NewPatientId()).GetSummaryAsync());
    }

    [Fact]
    public async Task Rejected_message_without_message_id_is_counted_and_quarantined()
    {
        var site = NewSiteId();
        var message = Vitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5), 72);
        message.Remove("message_id");
        var receivedAt = new DateTimeOffset(2026, 3, 1, 7, 45, 0, TimeSpan.Zero);
        var body = message.ToJsonString();

        var result = Assert.Single(await _cluster.IngestAsync(receivedAt, body));

        Assert.Equal(IngestStatus.Rejected, result.Status);
        Assert.Null(result.MessageId);
        Assert.Contains(result.Violations, v => v.Field == "message_id" && v.Rule == "required");
        Assert.StartsWith("quarantine/date=2026-03-01/hour=07/", result.Location);

        var line = File.ReadLines(Path.Combine(fixture.DataPath, result.Location!)).Single(l => l.Contains(site, StringComparison.Ordinal));
        Assert.True(BronzeRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record));
        Assert.Null(record.MessageId);
        Assert.Equal(body, Encoding.UTF8.GetString(record.Raw.Span));
        Assert.Contains(record.Violations, v => v.Field == "message_id" && v.Rule == "required");

        var summary = SiteSummary.From(site, await _cluster.Journal.CountersAsync(site));
        Assert.Equal(1, Assert.Single(summary.Rejected).Value);
        Assert.Equal(1, summary.Rejected["vital_signs"]);
        Assert.Equal(1, summary.RejectionReasons["message_id:required"]);
        Assert.Empty(summary.Accepted);
    }

    [Fact]
    public async Task Rejected_message_with_message_id_can_be_looked_up_with_its_violations()
    {
        var site = NewSiteId();
        var message = ImpossibleVitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5));

        var result = Assert.Single(await _cluster.IngestAsync(message.ToJsonString()));

        var record = await _cluster.Journal.FindAsync(IdOf(message));
        Assert.Equal(IngestStatus.Rejected, record!.Status);
        Assert.StartsWith("quarantine/", record.Location);
        Assert.Equal(result.Location, record.Location);
        Assert.Equal(("vital_signs.heart_rate", "range"), (Assert.Single(record.Violations).Field, record.Violations[0].Rule));
    }

    [Fact]
    public async Task The_same_invalid_body_sent_twice_is_answered_rejected_both_times_and_counted_once()
    {
        var site = NewSiteId();
        var body = ImpossibleVitals(NewPatientId(), site, DateTimeOffset.UtcNow.AddMinutes(-5)).ToJsonString();

        var first = Assert.Single(await _cluster.IngestAsync(body));
        var again = Assert.Single(await _cluster.IngestAsync(body));

        // The sender learns again why (a broker dead-letters it); the platform counts it once, the repeat as a duplicate.
        Assert.Equal((IngestStatus.Rejected, IngestStatus.Rejected), (first.Status, again.Status));
        Assert.Equal(first.Violations, again.Violations);
        var summary = SiteSummary.From(site, await _cluster.Journal.CountersAsync(site));
        Assert.Equal(1, summary.Rejected["vital_signs"]);
        Assert.Equal(1, summary.Duplicates["vital_signs"]);
        Assert.Equal(1, summary.RejectionReasons["vital_signs.heart_rate:range"]);
    }

    [Fact]
    public async Task Corrected_message_is_accepted_and_found_in_place_of_its_rejection()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var id = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);

        var rejected = Assert.Single(await _cluster.IngestAsync(ImpossibleVitals(patient, site, at, id).ToJsonString()));
        var accepted = Assert.Single(await _cluster.IngestAsync(Vitals(patient, site, at, 80, id).ToJsonString()));

        Assert.Equal(IngestStatus.Rejected, rejected.Status);
        Assert.Equal(IngestStatus.Accepted, accepted.Status);
        var record = await _cluster.Journal.FindAsync(id);
        Assert.Equal(IngestStatus.Accepted, record!.Status);
        Assert.Empty(record.Violations);
        Assert.StartsWith("raw/vital_signs/", record.Location);
        var summary = await _cluster.Client.GetGrain<IPatientGrain>(patient).GetSummaryAsync();
        Assert.Equal(1, summary!.MessageCounts["vital_signs"]);
        Assert.Equal(80, summary.LatestVitals["heart_rate"].Value);
    }

    [Fact]
    public async Task Bronze_file_is_partitioned_by_type_date_and_hour_and_holds_the_exact_bytes()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var receivedAt = new DateTimeOffset(2026, 3, 1, 9, 15, 0, TimeSpan.Zero);
        var id = Guid.NewGuid();
        // Pretty-printed, CRLF line ends, unicode both literal and escaped: none of it may be rewritten.
        var body = "{\r\n  \"message_id\": \"" + id + "\",\r\n  \"timestamp\": \"2026-03-01T08:50:00Z\",\r\n"
            + "  \"study_phase\":\"Phase II\", \"site_id\" : \"" + site + "\",\r\n"
            + "  \"adverse_event\": {\n    \"patient_id\": \"" + patient + "\",\n    \"event_term\": \"Übelkeit 吐き気 \\u00e9 🤢\",\n"
            + "    \"severity\": \"MILD\", \"serious\": false, \"relation_to_study_drug\": \"UNLIKELY\"\n  }\n}\n";

        var result = Assert.Single(await _cluster.IngestAsync(receivedAt, body));

        Assert.Equal(IngestStatus.Accepted, result.Status);
        Assert.Matches(@"^raw/adverse_event/date=2026-03-01/hour=09/part-[^/]+\.ndjson$", result.Location);
        var line = Assert.Single(BronzeLines(id));
        Assert.Equal(result.Location, line.Location);
        Assert.True(BronzeRecord.TryParse(Encoding.UTF8.GetBytes(line.Text), out var record));
        Assert.Equal(Encoding.UTF8.GetBytes(body), record.Raw.ToArray());
        Assert.Equal(id, record.MessageId);
        Assert.Equal(receivedAt, record.ReceivedAt);
    }

    /// <summary>Every bronze line (under raw/) that holds <paramref name="id"/>, with its file.</summary>
    private List<(string Location, string Text)> BronzeLines(Guid id)
    {
        var raw = Path.Combine(fixture.DataPath, "raw");
        return Directory.EnumerateFiles(raw, "*.ndjson", SearchOption.AllDirectories)
            .SelectMany(file => File.ReadLines(file).Select(text => (Location: Path.GetRelativePath(fixture.DataPath, file), Text: text)))
            .Where(line => line.Text.Contains(id.ToString(), StringComparison.Ordinal))
            .ToList();
    }
}

/// <summary>A patient activates from stored messages whatever today's rules say of them (docs: README, "Replay").</summary>
public sealed class PatientReplayRulesTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClinicalCluster _cluster = fixture.Cluster;

    [Fact]
    public async Task A_patient_activates_from_a_message_accepted_under_rules_that_would_reject_it_today()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        var raw = Encoding.UTF8.GetBytes(ImpossibleVitals(patient, site, at).ToJsonString());
        var acceptedThen = new AcceptedUnder("0+labs-2025.1.0", []);
        await _cluster.Journal.AppendAsync([
            new JournalEntry(Guid.NewGuid(), DateTimeOffset.UtcNow, patient, site, PayloadType.VitalSigns, at, raw, [], 0, acceptedThen)]);

        var stored = Assert.Single(await _cluster.Journal.ReadPatientAsync(patient, 0));
        Assert.Equal(acceptedThen.Rules, stored.AcceptedUnder!.Rules);
        var summary = await _cluster.Client.GetGrain<IPatientGrain>(patient).GetSummaryAsync();

        Assert.Equal(1, summary!.MessageCounts["vital_signs"]);
        Assert.Equal(400, summary.LatestVitals["heart_rate"].Value);
    }

    [Fact]
    public async Task A_value_set_aside_on_acceptance_stays_out_of_the_replayed_patient()
    {
        var (patient, site) = (NewPatientId(), NewSiteId());
        var message = Vitals(patient, site, DateTimeOffset.UtcNow.AddMinutes(-10), 400);
        Assert.Equal(IngestStatus.Accepted, Assert.Single(await _cluster.IngestAsync(message.ToJsonString())).Status);

        var stored = Assert.Single(await _cluster.Journal.ReadPatientAsync(patient, 0));

        Assert.Equal(ClinicalMessageParser.RulesVersion, stored.AcceptedUnder!.Rules);
        Assert.Equal(["vital_signs.heart_rate"], stored.AcceptedUnder.SetAside);
        var replayed = (VitalSigns)stored.Parse().Message!.Payload;
        Assert.Null(replayed.HeartRate);
        Assert.Equal((int)message["vital_signs"]!["systolic_bp"]!, replayed.SystolicBp);
    }
}
