using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The journal read as a log, in commit order: what a reader that must see every acknowledged message once (the EMR
/// outbox) follows with a durable cursor. Only the embedded journal offers it: its sequences become visible in order
/// (up to the verified commit), while PostgreSQL transactions may commit sequences out of order.
/// </summary>
public interface IJournalTail
{
    /// <summary>Up to <paramref name="limit"/> accepted messages of <paramref name="type"/> committed after <paramref name="afterSequence"/>, in commit order.</summary>
    Task<List<StoredMessage>> ReadAcceptedAsync(PayloadType type, long afterSequence, int limit);
}
