namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The durable record of every received message: what "202 means durable" rests on. The embedded profile keeps it
/// in the data directory (<see cref="IngestJournal"/>: bronze files and a SQLite ledger); the cluster profile in
/// PostgreSQL (<see cref="PostgresJournal"/>), where every silo sees every message.
/// </summary>
public interface IIngestJournal
{
    /// <summary>The last commit failure, cleared by the next successful commit.</summary>
    Exception? LastError { get; }

    DateTimeOffset? LastCommitAt { get; }

    /// <summary>Makes <paramref name="entries"/> durable; the results are in the same order.</summary>
    /// <exception cref="JournalUnavailableException">The commit failed; nothing of it was acknowledged.</exception>
    Task<JournalAppend[]> AppendAsync(IReadOnlyList<JournalEntry> entries);

    /// <summary>Checks, in turn with the commits, that the journal takes writes now.</summary>
    /// <exception cref="JournalUnavailableException">It does not.</exception>
    Task CheckWritableAsync();

    /// <summary>Checks that the journal can be read; throws with the reason when it cannot.</summary>
    Task CheckReadableAsync();

    /// <summary>Where <paramref name="messageId"/> is, or null when it was never stored.</summary>
    Task<MessageRecord?> FindAsync(Guid messageId);

    /// <summary>The counters of one site (or all), with the last commit of every writer they include.</summary>
    Task<CounterSnapshot> CountersAsync(string? siteId = null);

    /// <summary>
    /// Up to <paramref name="limit"/> patients with accepted messages, of one site or all, whose ids sort (ordinally)
    /// after <paramref name="afterPatientId"/> ("" for the first page), in id order.
    /// </summary>
    Task<IReadOnlyList<JournalPatient>> PatientsAsync(string? siteId, string afterPatientId, int limit);

    /// <summary>How many patients each site has accepted messages for.</summary>
    Task<IReadOnlyDictionary<string, long>> PatientCountsAsync();

    /// <summary>A patient's accepted messages committed after <paramref name="afterSequence"/>, in commit order, as received.</summary>
    Task<List<StoredMessage>> ReadPatientAsync(string patientId, long afterSequence);
}
