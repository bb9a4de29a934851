using System.Data.Common;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Cluster;

/// <summary>
/// Failures a client should retry (503): the journal could not commit; a silo could not be reached (one that died
/// and that membership has not yet declared dead, a message rejected on the way, a call that timed out); or the
/// cluster database did not answer a grain's state read or write (Orleans reports that as an <see cref="OrleansException"/>
/// around the provider's), or the runtime cancelled a call while the grain directory moved a range of grains between
/// silos (a silo left during the hand-over). Whatever they interrupted either did not happen or, if it did, its retry is answered
/// <c>duplicate</c>.
/// </summary>
public static class RetriableFailure
{
    public static bool Is(Exception exception) => exception switch
    {
        JournalUnavailableException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException => true,
        OperationCanceledException => true,
        DbException { IsTransient: true } => true,
        OrleansException { InnerException: { } inner } => Is(inner),
        _ => false,
    };
}
