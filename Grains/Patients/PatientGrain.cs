using System.Collections.Immutable;
using System.Diagnostics;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Online;
using ClinicalTrials.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Grains.Patients;

/// <inheritdoc cref="IPatientGrain"/>
public sealed partial class PatientGrain(
    [PersistentState("patient", StorageNames.Clinical)] IPersistentState<PatientState> state,
    IIngestJournal journal,
    OnlineFeatureStore onlineStore,
    ClinicalMetrics metrics,
    ILogger<PatientGrain> logger) : Grain, IPatientGrain
{
    /// <summary>Snapshots are coalesced: at most one write per interval, however many messages arrive.</summary>
    private static readonly TimeSpan SnapshotInterval = TimeSpan.FromMinutes(5);

    private PatientFeatureState _features = new();
    private bool _dirty;

    /// <summary>Ingest calls waiting for the journal; their messages have sequences but are not applied yet.</summary>
    private int _ingestsInFlight;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        RestoreFeatures();

        // The snapshot may be older than the journal (written lazily, or lost in a crash): replay the rest.
        var replayed = false;
        foreach (var stored in await journal.ReadPatientAsync(this.GetPrimaryKeyString(), state.State.AppliedThrough))
        {
            var parsed = stored.Parse();
            replayed |= Apply(parsed.Message ?? throw new InvalidDataException(
                $"Stored message {stored.Sequence} cannot be read back: {string.Join("; ", parsed.Violations.Select(v => $"{v.Field} {v.Rule}"))}."), stored.Sequence);
        }

        if (replayed)
        {
            // The online store may have missed these too (a crash before its writer ran).
            PublishFeatures();
        }

        // Spread the first write over the interval so patients activated together do not all write at once.
        this.RegisterGrainTimer(WriteSnapshotAsync, SnapshotInterval * Random.Shared.NextDouble(), SnapshotInterval);
        metrics.PatientActivated();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.PatientDeactivated();
        return WriteSnapshotAsync();
    }

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
        catch (JournalUnavailableException)
        {
            // A commit whose outcome is unknown (a connection lost during COMMIT) may have stored the messages after
            // all: the next activation replays whatever the journal holds, so the state cannot miss them.
            this.DeactivateOnIdle();
            throw;
        }
        finally
        {
            _ingestsInFlight--;
        }

        var applying = Stopwatch.GetTimestamp();
        var outcomes = ImmutableArray.CreateBuilder<IngestOutcome>(messages.Length);
        var featuresChanged = false;
        for (var i = 0; i < messages.Length; i++)
        {
            var append = appends[i];
            if (append.Status == IngestStatus.Accepted)
            {
                featuresChanged |= Apply(messages[i].Message, append.Sequence);
            }

            outcomes.Add(new IngestOutcome(messages[i].Message.MessageId, append.Status, append.Location));
        }

        if (featuresChanged)
        {
            PublishFeatures();
        }

        metrics.FeaturesUpdated(Stopwatch.GetElapsedTime(applying));
        return outcomes.MoveToImmutable();
    }

    public Task<PatientSummary?> GetSummaryAsync()
    {
        var s = state.State;
        if (s.FirstEventAt is not { } first || s.LastEventAt is not { } last)
        {
            return Task.FromResult<PatientSummary?>(null);
        }

        // Snapshots written before the wire-name table held the enum's own spelling (FEMALE for F).
        var demographics = s.Demographics is { } d ? d with { Gender = WireNames.Gender.Of(WireNames.Gender.Parse(d.Gender)) } : null;
        return Task.FromResult<PatientSummary?>(new PatientSummary(
            this.GetPrimaryKeyString(), s.SiteId, s.StudyPhase, demographics, first, last,
            s.MessageCounts.ToImmutableDictionary(), s.LatestVitals.ToImmutableDictionary(), s.LatestLabs.ToImmutableDictionary(),
            s.AdverseEventCount, s.SeriousAdverseEventCount, s.LastAdverseEventAt, s.AbnormalValueCount));
    }

    public Task<PatientFeatures?> GetFeaturesAsync() => Task.FromResult(_features.AsOf is { } asOf
        ? new PatientFeatures(this.GetPrimaryKeyString(), asOf, FeatureCatalogue.Version, ImmutableArray.Create(_features.CurrentValues))
        : null);

    /// <summary>Applies one stored message to the patient's state and features; true when the feature vector changed.</summary>
    private bool Apply(ClinicalMessage message, long sequence)
    {
        state.State.Apply(message, sequence);
        _dirty = true;
        return _features.Apply(message);
    }

    private void PublishFeatures()
    {
        if (_features.AsOf is { } asOf)
        {
            onlineStore.Publish(this.GetPrimaryKeyString(), asOf, _features.CurrentValues);
        }
    }

    /// <summary>
    /// Takes the feature state from the snapshot. A snapshot without one (written before features were kept) or in a
    /// format this build cannot read is dropped whole, so the journal replays every message into both.
    /// </summary>
    private void RestoreFeatures()
    {
        if (state.State.Features is { } bytes)
        {
            try
            {
                _features = PatientFeatureState.Deserialize(bytes);
                return;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
                LogUnreadableFeatures(logger, this.GetPrimaryKeyString(), e.Message);
            }
        }
        else if (state.State.AppliedThrough == 0)
        {
            return;
        }

        state.State = new PatientState();
    }

    private async Task WriteSnapshotAsync()
    {
        // A snapshot taken while an interleaved ingest waits could record a sequence beyond a message it lacks.
        if (_dirty && _ingestsInFlight == 0)
        {
            _dirty = false;
            state.State.Features = _features.Serialize();
            await state.WriteStateAsync();
        }
    }

    [LoggerMessage(LogLevel.Warning, "The snapshot of patient {PatientId} holds no readable feature state ({Reason}); rebuilding the patient from the journal.")]
    private static partial void LogUnreadableFeatures(ILogger logger, string patientId, string reason);
}
