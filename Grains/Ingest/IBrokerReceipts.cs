namespace ClinicalTrials.Grains.Ingest;

/// <summary>
/// The audit trail's <c>data.receive</c> record of what a broker delivered and what became of each message. Written
/// durably after ingest and before the broker is told the messages are taken (settled or committed), as an HTTP
/// request's record is written before its answer. A failure throws: the delivery is then not taken and comes again,
/// and its stored messages are answered duplicate and recorded then.
/// </summary>
public interface IBrokerReceipts
{
    /// <param name="actor">Who delivered: the broker and the account the silo reads with (never a password).</param>
    /// <param name="source">Where from: the broker's address and queue, or the stream.</param>
    /// <param name="messages">The messages as received.</param>
    /// <param name="results">What ingest made of each, in the same order.</param>
    Task RecordAsync(string actor, string source, IReadOnlyList<ReceivedMessage> messages, IReadOnlyList<IngestResult> results);
}
