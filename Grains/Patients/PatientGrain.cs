using System.Collections.Immutable;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Patients;

/// <inheritdoc cref="IPatientGrain"/>
public sealed class PatientGrain(
    [PersistentState("patient", StorageNames.Clinical)] IPersistentState<PatientState> state,
    IngestJournal journal) : Grain, IPatientGrain
{
    /// <summary>Snapshots are coalesced: at most one write per interval, however many messages arrive.</summary>
    private static readonly TimeSpan SnapshotInterval = TimeSpan.FromSeconds(30);

    private bool _dirty;

    /// <summary>Ingest calls waiting for the journal; their messages have sequences but are not applied yet.</summary>
    private int _ingestsInFlight;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The snapshot may be older than the journal (written lazily, or lost in a crash): replay the rest.
        foreach (var stored in await journal.ReadPatientAsync(this.GetPrimaryKeyString(), state.State.AppliedThrough))
        {
            var parsed = ClinicalMessageParser.Parse(stored.Raw, stored.ReceivedAt);
            state.State.Apply(parsed.Message ?? throw new InvalidDataException($"Stored message {stored.Sequence} no longer parses."), stored.Sequence);
            _dirty = true;
        }

        // Spread the first write over the interval so patients activated together do not all write at once.
        this.RegisterGrainTimer(WriteSnapshotAsync, SnapshotInterval * Random.Shared.NextDouble(), SnapshotInterval);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => WriteSnapshotAsync();

    public async Task<ImmutableArray<IngestOutcome>> IngestAsync(ImmutableArray<IngestMessage> messages)
    {
        var patientId = this.GetPrimaryKeyString();
        if (messages.Any(m => m.Message.PatientId != patientId))
        {
            throw new ArgumentException($"Every message sent to patient {patientId} must be about that patient.", nameof(messages));
        }

        JournalAppend[] appends;
        _ingestsInFlight++;
        try
        {
            appends = await journal.AppendAsync(messages.Select(JournalEntry.Accepted).ToArray());
        }
        finally
        {
            _ingestsInFlight--;
        }

        var outcomes = ImmutableArray.CreateBuilder<IngestOutcome>(messages.Length);
        for (var i = 0; i < messages.Length; i++)
        {
            var append = appends[i];
            if (append.Status == IngestStatus.Accepted)
            {
                state.State.Apply(messages[i].Message, append.Sequence);
                _dirty = true;
            }

            outcomes.Add(new IngestOutcome(messages[i].Message.MessageId, append.Status, append.Location, append.Generation));
        }

        return outcomes.MoveToImmutable();
    }

    public Task<PatientSummary?> GetSummaryAsync()
    {
        var s = state.State;
        if (s.FirstEventAt is not { } first || s.LastEventAt is not { } last)
        {
            return Task.FromResult<PatientSummary?>(null);
        }

        return Task.FromResult<PatientSummary?>(new PatientSummary(
            this.GetPrimaryKeyString(), s.SiteId, s.StudyPhase, s.Demographics, first, last,
            s.MessageCounts.ToImmutableDictionary(), s.LatestVitals.ToImmutableDictionary(), s.LatestLabs.ToImmutableDictionary(),
            s.AdverseEventCount, s.SeriousAdverseEventCount, s.LastAdverseEventAt, s.AbnormalValueCount));
    }

    private async Task WriteSnapshotAsync()
    {
        // A snapshot taken while an interleaved ingest waits could record a sequence beyond a message it lacks.
        if (_dirty && _ingestsInFlight == 0)
        {
            _dirty = false;
            await state.WriteStateAsync();
        }
    }
}
