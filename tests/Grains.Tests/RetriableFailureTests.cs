using System.Data.Common;
using ClinicalTrials.Grains.Cluster;
using ClinicalTrials.Grains.Journal;

namespace ClinicalTrials.Grains.Tests;

/// <summary>Which failures the gateway answers 503 (retry: nothing was acknowledged) rather than 500.</summary>
public sealed class RetriableFailureTests
{
    public static TheoryData<string, Exception, bool> Failures() => new()
    {
        { "journal could not commit", new JournalUnavailableException("disk full", new IOException()), true },
        { "silo died and is not yet declared dead", new SiloUnavailableException("silo died"), true },
        { "call timed out", new TimeoutException(), true },
        { "call cancelled while the directory moved a range", new OperationCanceledException(), true },
        { "database away, wrapped by Orleans", new OrleansException("state read failed", new TransientDbException(true)), true },
        { "database refused the statement, wrapped by Orleans", new OrleansException("state read failed", new TransientDbException(false)), false },
        { "a bug in our code", new InvalidOperationException(), false },
        { "a bug in our code, wrapped by Orleans", new OrleansException("grain call failed", new ArgumentException()), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failure_is_retriable_only_when_whatever_it_interrupted_can_be_sent_again(string failure, Exception exception, bool retriable) =>
        Assert.True(RetriableFailure.Is(exception) == retriable, $"{failure}: expected retriable = {retriable}");

    private sealed class TransientDbException(bool transient) : DbException("database error")
    {
        public override bool IsTransient => transient;
    }
}
