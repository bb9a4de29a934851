using System.Collections.Immutable;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using ClinicalTrials.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>
/// The one ingest path. HTTP and every broker hand their messages here: valid messages go to their patient's
/// grain (which has them stored once), rejected ones to quarantine; the journal counts both per site in the same
/// commit. Returns when every message's outcome is durable. Each patient's messages are committed on their own, so when the
/// journal fails, or a patient's silo cannot be reached, some of a batch may be stored and the rest not: those are
/// <see cref="IngestStatus.Unavailable"/> (<see cref="RetriableFailure"/>).
/// </summary>
public sealed partial class ClinicalIngest(IGrainFactory grains, IIngestJournal journal, ClinicalMetrics metrics, ILogger<ClinicalIngest> logger)
{
    public async Task<IReadOnlyList<IngestResult>> IngestAsync(IReadOnlyList<ReceivedMessage> messages, DateTimeOffset receivedAt)
    {
        var results = new IngestResult[messages.Count];
        var rejected = new List<int>();
        var repeatedRejections = new HashSet<int>();
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
        for (var i = 0; i < messages.Count; i++)
        {
            var parsed = messages[i].Parsed;
            metrics.MessageReceived(repeatedRejections.Contains(i) ? IngestStatus.Duplicate : results[i].Status, parsed);
            if (results[i].Status == IngestStatus.Rejected && logger.IsEnabled(LogLevel.Debug))
            {
                LogRejected(logger, parsed.MessageId, parsed.SiteId, string.Join(", ", parsed.Violations.Select(v => $"{v.Field}:{v.Rule}").Distinct()));
            }
        }

        return results;

        async Task IngestForPatientAsync(string patientId, List<int> indexes)
        {
            var batch = indexes.Select(i => new IngestMessage(messages[i].Parsed.Message!, messages[i].Raw.ToArray(), receivedAt)).ToImmutableArray();
            ImmutableArray<IngestOutcome> patientOutcomes;
            try
            {
                patientOutcomes = await UnlessRejectedAsync(() => grains.Patient(patientId).IngestAsync(batch));
            }
            catch (Exception e) when (RetriableFailure.Is(e))
            {
                Unavailable(indexes);
                return;
            }

            for (var k = 0; k < indexes.Count; k++)
            {
                var i = indexes[k];
                var outcome = patientOutcomes[k];
                results[i] = new IngestResult(outcome.MessageId, outcome.Status, outcome.BronzeLocation, messages[i].Parsed.Violations);
            }
        }

        async Task QuarantineAsync()
        {
            var entries = rejected.Select(i => JournalEntry.Rejected(messages[i].Parsed, messages[i].Raw, receivedAt)).ToArray();
            JournalAppend[] appends;
            try
            {
                appends = await journal.AppendAsync(entries);
            }
            catch (Exception e) when (RetriableFailure.Is(e))
            {
                Unavailable(rejected);
                return;
            }

            for (var k = 0; k < rejected.Count; k++)
            {
                var i = rejected[k];
                var parsed = messages[i].Parsed;
                // A rejection quarantined before (a redelivery, a resend) is answered as rejected again, so that a
                // client learns why and a broker dead-letters it, but counted as a duplicate, as the journal counts it.
                results[i] = new IngestResult(parsed.MessageId, IngestStatus.Rejected, appends[k].Location, parsed.Violations);
                if (appends[k].Status == IngestStatus.Duplicate)
                {
                    repeatedRejections.Add(i);
                }
            }
        }

        void Unavailable(List<int> indexes)
        {
            foreach (var i in indexes)
            {
                var parsed = messages[i].Parsed;
                results[i] = new IngestResult(parsed.MessageId, IngestStatus.Unavailable, null, []);
            }
        }
    }

    /// <summary>
    /// Makes a grain call again when it was rejected before the grain saw it: a silo that is shutting down rejects calls
    /// to the grains it is moving away, and the next try finds the grain's new activation. Other failures are not
    /// repeated here (a call that may have run is answered 503, and the client's retry is answered <c>duplicate</c>).
    /// </summary>
    private static async Task<T> UnlessRejectedAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (OrleansMessageRejectionException) when (attempt < RejectedCallAttempts)
            {
                await Task.Delay(RejectedCallBackoff * attempt);
            }
        }
    }

    /// <summary>Fields and rules only: a violation's text may quote the value, which is patient data.</summary>
    [LoggerMessage(LogLevel.Debug, "Message {MessageId} from site {SiteId} rejected: {Violations}")]
    private static partial void LogRejected(ILogger logger, Guid? messageId, string? siteId, string violations);

    private const int RejectedCallAttempts = 3;
    private static readonly TimeSpan RejectedCallBackoff = TimeSpan.FromMilliseconds(100);
}
