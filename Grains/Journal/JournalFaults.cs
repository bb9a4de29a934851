namespace ClinicalTrials.Grains.Journal;

/// <summary>The steps of a journal commit, in order, and the repairs of an earlier failed one.</summary>
public enum CommitStep
{
    /// <summary>Cutting bronze lines of a failed commit off again, before the next commit (see <see cref="TakeBack"/>).</summary>
    Repair,

    /// <summary>Writing a message's ledger row inside the commit's transaction.</summary>
    LedgerWrite,

    /// <summary>Committing the ledger transaction (to the WAL, not yet synced).</summary>
    LedgerCommit,

    /// <summary>Writing a bronze part's lines.</summary>
    BronzeWrite,

    /// <summary>Fsyncing a bronze part.</summary>
    BronzeSync,

    /// <summary>Fsyncing the ledger's WAL.</summary>
    WalSync,

    /// <summary>Removing the ledger rows of a commit whose syncs failed.</summary>
    TakeBack,
}

/// <summary>
/// Where fault-injection tests make a step of a journal commit fail (<see cref="At"/> throws); the journal calls it
/// just before each step. The default, <see cref="None"/>, injects nothing.
/// </summary>
public class JournalFaults
{
    public static readonly JournalFaults None = new();

    /// <summary>Called just before <paramref name="step"/>; throwing makes that step fail.</summary>
    public virtual void At(CommitStep step)
    {
    }
}
