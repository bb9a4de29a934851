using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Retention;
using ClinicalTrials.Lake.Silver;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake;

/// <summary>
/// What every job works with: the local data directory (where the journal writes bronze), the lake storage (the same
/// directory, or a bucket), the lake's state, the clock and the options; in the cluster profile also the shared
/// journal whose rows are the bronze.
/// </summary>
public sealed class LakeContext
{
    /// <param name="dataDirectory">The local data directory (<see cref="DataDirectory"/>).</param>
    /// <param name="storage">Where silver, features and bronze copies go: the data directory or a bucket.</param>
    /// <param name="options">The pipeline's options.</param>
    /// <param name="clock">The time the jobs go by.</param>
    /// <param name="state">The lake's state; by default <c>lake.db</c> in the data directory.</param>
    /// <param name="journalBronze">Bronze that is still journal rows (cluster profile); none when the journal writes files.</param>
    /// <param name="auditTrail">The audit trail the retention job prunes; none where no audit trail is kept.</param>
    public LakeContext(string dataDirectory, ILakeStorage storage, PipelineOptions options, TimeProvider clock,
        ILakeState? state = null, IJournalBronze? journalBronze = null, IAuditTrailRetention? auditTrail = null)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        Storage = storage;
        Options = options;
        Clock = clock;
        State = state ?? new LakeStateDatabase(Path.Combine(DataDirectory, "lake.db"));
        JournalBronze = journalBronze;
        AuditTrail = auditTrail;
    }

    /// <summary>
    /// The local data directory: bronze and quarantine NDJSON as the journal wrote them (or, in the cluster profile,
    /// as bronze-to-silver wrote them out of the shared journal), and <c>lake.db</c>.
    /// </summary>
    public string DataDirectory { get; }

    public ILakeStorage Storage { get; }

    public PipelineOptions Options { get; }

    public TimeProvider Clock { get; }

    public ILakeState State { get; }

    public IJournalBronze? JournalBronze { get; }

    public IAuditTrailRetention? AuditTrail { get; }

    /// <summary>True when silver and features live somewhere else than the data directory (a bucket).</summary>
    public bool StorageIsRemote => Storage is not LocalLakeStorage local
        || !string.Equals(local.Root, DataDirectory, StringComparison.Ordinal);

    public DateOnly Today => DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime);
}
