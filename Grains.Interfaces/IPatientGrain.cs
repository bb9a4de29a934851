using System.Collections.Immutable;
using Orleans.Concurrency;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// One pseudonymous trial patient, keyed by patient_id. Owns the patient's history: de-duplicates incoming
/// messages, has them stored durably, and keeps the patient's current state.
/// </summary>
[Alias("patient")]
public interface IPatientGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores the messages durably (each message_id once) and applies the new ones to the patient's state.
    /// Completes only when every accepted message is durable. Outcomes are in the order of <paramref name="messages"/>.
    /// Calls interleave while they wait for the journal, so concurrent requests for one patient share a commit
    /// instead of queueing one commit each; applying a message is order-independent, so this is safe.
    /// </summary>
    [Alias("ingest"), AlwaysInterleave]
    Task<ImmutableArray<IngestOutcome>> IngestAsync(ImmutableArray<IngestMessage> messages);

    /// <summary>The patient's current state, or null when nothing was ever stored for this patient.</summary>
    [Alias("summary")]
    Task<PatientSummary?> GetSummaryAsync();

    /// <summary>
    /// The patient's current feature vector, kept up to date as each message is stored (never recomputed on read),
    /// or null when nothing was ever stored for this patient.
    /// </summary>
    [Alias("features")]
    Task<PatientFeatures?> GetFeaturesAsync();
}
