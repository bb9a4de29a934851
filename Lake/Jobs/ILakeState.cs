namespace ClinicalTrials.Lake.Jobs;

/// <summary>
/// The lake's progress and records: how far each bronze file has been read (and whether it reached the lake storage),
/// which silver dates changed since the offline features last ran, and every job run. Embedded: <c>lake.db</c> in the
/// data directory (<see cref="LakeStateDatabase"/>); cluster: tables of the cluster database, so that a job's next
/// run continues where the last one stopped on whichever silo it runs.
/// </summary>
public interface ILakeState
{
    /// <summary>Bytes of each bronze file (by its location under the data directory) already turned into silver.</summary>
    Dictionary<string, (long Consumed, bool Copied)> BronzeProgress();

    /// <summary>
    /// Records, in one transaction, how far each file has been consumed and which silver dates changed. Called only
    /// after the silver files holding those bytes are stored, so a crash before it re-reads them (harmlessly: the
    /// merge de-duplicates) and never skips them.
    /// </summary>
    void CommitProgress(IReadOnlyDictionary<string, long> consumed, IEnumerable<DateOnly> changedDates);

    /// <summary>The bronze file is in the lake storage's <c>raw/…</c> too.</summary>
    void MarkCopied(string location);

    void ForgetBronze(string location);

    /// <summary>Silver dates changed since the offline features last took them.</summary>
    List<DateOnly> SilverChanges();

    void ClearSilverChanges(IEnumerable<DateOnly> dates);

    long StartRun(string job, DateTimeOffset startedAt);

    void EndRun(JobRunRecord record);

    /// <summary>The latest runs, newest first, of one job or of all.</summary>
    List<JobRunRecord> Runs(string? job, int limit);

    /// <summary>Removes run records that started before <paramref name="before"/> (audit retention); returns how many.</summary>
    int DeleteRunsBefore(DateTimeOffset before);
}
