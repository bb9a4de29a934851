using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// What the EMR outbox follows and where it records its progress: the journal's accepted lab messages in commit order,
/// after the durable position delivered through, and one audit row per delivery. One implementation per profile:
/// <see cref="EmbeddedEmrOutboxStore"/> beside the embedded journal, <see cref="PostgresEmrOutboxStore"/> in the cluster.
/// </summary>
internal interface IEmrOutboxStore : IAsyncDisposable
{
    /// <summary>Returns once this silo is the one that delivers (in a cluster, one silo at a time); at once if it already is.</summary>
    Task WaitForTurnAsync(CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> accepted lab messages after the position delivered through, in commit order.</summary>
    Task<IReadOnlyList<StoredMessage>> NextAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// After <see cref="NextAsync"/> read less than it asked for: how many accepted lab messages are stored but wait behind
    /// an older transaction still running (in the cluster, the server's oldest; always 0 embedded).
    /// </summary>
    long HeldBack { get; }

    /// <summary>Records one message's deliveries and moves the position past it, in one durable transaction.</summary>
    Task RecordAsync(StoredMessage message, IReadOnlyList<EmrDelivery> deliveries, CancellationToken cancellationToken);

    /// <summary>After a failure of the store: gives up the turn, so that the next wait starts again from the durable position.</summary>
    ValueTask ResetAsync();
}

/// <summary>One lab result's delivery: <c>created</c> or <c>exists</c> (the EMR had it: a resend), or <c>refused</c> (a 4xx, kept for review).</summary>
internal sealed record EmrDelivery(Guid MessageId, int ResultIndex, string Outcome, int? HttpStatus, int Attempts, DateTimeOffset At);
