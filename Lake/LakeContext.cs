using ClinicalTrials.Lake.Jobs;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake;

/// <summary>
/// What every job works with: the local data directory (where the journal writes bronze), the lake storage (the same
/// directory, or a bucket), the lake's state database, the clock and the options.
/// </summary>
public sealed class LakeContext
{
    public LakeContext(string dataDirectory, ILakeStorage storage, PipelineOptions options, TimeProvider clock)
    {
        DataDirectory = Path.GetFullPath(dataDirectory);
        Storage = storage;
        Options = options;
        Clock = clock;
        State = new LakeStateDatabase(Path.Combine(DataDirectory, "lake.db"));
    }

    /// <summary>The local data directory: bronze and quarantine NDJSON as the journal wrote them, and <c>lake.db</c>.</summary>
    public string DataDirectory { get; }

    public ILakeStorage Storage { get; }

    public PipelineOptions Options { get; }

    public TimeProvider Clock { get; }

    public LakeStateDatabase State { get; }

    /// <summary>True when silver and features live somewhere else than the data directory (a bucket).</summary>
    public bool StorageIsRemote => Storage is not LocalLakeStorage local
        || !string.Equals(local.Root, DataDirectory, StringComparison.Ordinal);

    public DateOnly Today => DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime);
}
