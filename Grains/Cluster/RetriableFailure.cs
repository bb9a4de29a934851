using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Cluster;

/// <summary>
/// Failures a client should retry (503): the journal could not commit, or a silo could not be reached (one that died
/// and that membership has not yet declared dead, a message rejected on the way, a call that timed out). Whatever they
/// interrupted either did not happen or, if it did, its retry is answered <c>duplicate</c>.
/// </summary>
public static class RetriableFailure
{
    public static bool Is(Exception exception) =>
        exception is JournalUnavailableException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;
}
