using System.Collections.Immutable;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>
/// The one ingest path. HTTP and every broker hand their messages here: valid messages go to their patient's
/// grain (which has them stored once), rejected ones to quarantine, and the outcomes to the sites' grains.
/// Returns when every message's outcome is durable.
/// </summary>
public sealed class ClinicalIngest(IGrainFactory grains, IngestJournal journal)
{
    public async Task<IReadOnlyList<IngestResult>> IngestAsync(IReadOnlyList<ReceivedMessage> messages, DateTimeOffset receivedAt)
    {
        var results = new IngestResult[messages.Count];
        var outcomes = new (IngestOutcome Outcome, ReceivedMessage Message)[messages.Count];
        var rejected = new List<int>();
        var byPatient = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Parsed.Message is { } message)
            {
                if (!byPatient.TryGetValue(message.PatientId, out var indexes))
                {
                    byPatient[message.PatientId] = indexes = [];
                }

                indexes.Add(i);
            }
            else
            {
                rejected.Add(i);
            }
        }

        var work = new List<Task>(byPatient.Count + 1);
        foreach (var (patientId, indexes) in byPatient)
        {
            work.Add(IngestForPatientAsync(patientId, indexes));
        }

        if (rejected.Count > 0)
        {
            work.Add(QuarantineAsync());
        }

        await Task.WhenAll(work);
        await TallySitesAsync(outcomes, receivedAt);
        return results;

        async Task IngestForPatientAsync(string patientId, List<int> indexes)
        {
            var batch = indexes.Select(i => new IngestMessage(messages[i].Parsed.Message!, messages[i].Raw.ToArray(), receivedAt)).ToImmutableArray();
            var patientOutcomes = await grains.GetGrain<IPatientGrain>(patientId).IngestAsync(batch);
            for (var k = 0; k < indexes.Count; k++)
            {
                var i = indexes[k];
                var outcome = patientOutcomes[k];
                outcomes[i] = (outcome, messages[i]);
                results[i] = new IngestResult(outcome.MessageId, outcome.Status, outcome.BronzeLocation, []);
            }
        }

        async Task QuarantineAsync()
        {
            var entries = rejected.Select(i => JournalEntry.Rejected(messages[i].Parsed, messages[i].Raw, receivedAt)).ToArray();
            var appends = await journal.AppendAsync(entries);
            for (var k = 0; k < rejected.Count; k++)
            {
                var i = rejected[k];
                var parsed = messages[i].Parsed;
                outcomes[i] = (new IngestOutcome(parsed.MessageId ?? Guid.Empty, IngestStatus.Rejected, appends[k].Location, appends[k].Generation), messages[i]);
                results[i] = new IngestResult(parsed.MessageId, IngestStatus.Rejected, appends[k].Location, parsed.Violations);
            }
        }
    }

    private Task TallySitesAsync((IngestOutcome Outcome, ReceivedMessage Message)[] outcomes, DateTimeOffset receivedAt)
    {
        var tallies = outcomes
            .Where(o => o.Message.Parsed.SiteId is not null)
            .GroupBy(o => (Site: o.Message.Parsed.SiteId!, o.Outcome.Generation))
            .Select(group => grains.GetGrain<ISiteGrain>(group.Key.Site).RecordAsync(new SiteTally(
                group.Key.Generation,
                CountByType(group, IngestStatus.Accepted),
                CountByType(group, IngestStatus.Duplicate),
                CountByType(group, IngestStatus.Rejected),
                group.SelectMany(o => o.Message.Parsed.Violations)
                    .GroupBy(v => $"{JournalFields.WithoutListIndex(v.Field)}:{v.Rule}")
                    .ToImmutableDictionary(g => g.Key, g => g.Count()),
                group.Where(o => o.Outcome.Status == IngestStatus.Accepted).Sum(o => o.Message.Parsed.Message!.Flags.Count),
                receivedAt)));
        return Task.WhenAll(tallies);
    }

    private static ImmutableDictionary<string, int> CountByType(IEnumerable<(IngestOutcome Outcome, ReceivedMessage Message)> group, IngestStatus status) =>
        group.Where(o => o.Outcome.Status == status)
            .GroupBy(o => o.Message.Parsed.PayloadType?.WireName() ?? "unknown")
            .ToImmutableDictionary(g => g.Key, g => g.Count());
}
