using System.Buffers;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Lake.Parquet;
using ClinicalTrials.Lake.Storage;

namespace ClinicalTrials.Lake.Silver;

/// <summary>New silver rows read from bronze and not yet stored, grouped by table and clinical date.</summary>
internal sealed class PendingSilver
{
    private readonly Dictionary<DateOnly, List<VitalRow>> _vitals = [];
    private readonly Dictionary<DateOnly, List<LabRow>> _labs = [];
    private readonly Dictionary<DateOnly, List<DemographicsRow>> _demographics = [];
    private readonly Dictionary<DateOnly, List<AdverseEventRow>> _adverseEvents = [];

    // Each message brings its own copies of patient, site and unit texts; the rows share one instance of each, so the
    // millions of rows held until the flush are not followed by millions of small strings for the collector to copy.
    private readonly Dictionary<string, string> _texts = new(StringComparer.Ordinal);

    public long Rows { get; private set; }

    public void Add(ClinicalMessage message, DateTimeOffset receivedAt)
    {
        var (id, patient, time, site, phase, received) = (message.MessageId, Shared(message.PatientId), SilverRows.Micros(message.Timestamp),
            Shared(message.SiteId), (int)message.StudyPhase, SilverRows.Micros(receivedAt));
        var date = DateOnly.FromDateTime(time);
        switch (message.Payload)
        {
            case VitalSigns v:
                Rows++;
                For(_vitals, date).Add(new VitalRow(id, patient, time, site, phase, received,
                    v.SystolicBp, v.DiastolicBp, v.HeartRate, v.TemperatureCelsius, v.OxygenSaturation, v.RespiratoryRate)
                {
                    MeasuredMeanArterialPressure = v.MeanArterialPressure, EndTidalCo2 = v.EndTidalCo2,
                });
                break;
            case LabResults labs:
                var list = For(_labs, date);
                foreach (var r in labs.Results)
                {
                    Rows++;
                    list.Add(LabRow.From(id, patient, time, site, phase, received, r with { OriginalUnit = r.OriginalUnit is null ? null : Shared(r.OriginalUnit) }));
                }

                break;
            case PatientDemographics d:
                Rows++;
                For(_demographics, date).Add(new DemographicsRow(id, patient, time, site, phase, received,
                    d.Age, WireNames.Gender.Of(d.Gender), d.WeightKg, d.HeightCm, d.EnrollmentDate, Shared(d.TrialArm)));
                break;
            case AdverseEvent a:
                Rows++;
                For(_adverseEvents, date).Add(new AdverseEventRow(id, patient, time, site, phase, received,
                    Shared(a.EventTerm), WireNames.Severity.Of(a.Severity), a.Serious, WireNames.DrugRelation.Of(a.RelationToStudyDrug), SilverRows.Micros(a.Onset)));
                break;
        }
    }

    private string Shared(string text)
    {
        if (_texts.TryGetValue(text, out var shared))
        {
            return shared;
        }

        _texts[text] = text;
        return text;
    }

    public IEnumerable<SilverPartition> Partitions() =>
        _vitals.Select(p => (SilverPartition)new SilverPartition<VitalRow>(PayloadType.VitalSigns, p.Key, VitalTable.Instance, p.Value))
            .Concat(_labs.Select(p => new SilverPartition<LabRow>(PayloadType.LabResults, p.Key, LabTable.Instance, p.Value)))
            .Concat(_demographics.Select(p => new SilverPartition<DemographicsRow>(PayloadType.PatientDemographics, p.Key, DemographicsTable.Instance, p.Value)))
            .Concat(_adverseEvents.Select(p => new SilverPartition<AdverseEventRow>(PayloadType.AdverseEvent, p.Key, AdverseEventTable.Instance, p.Value)))
            .OrderByDescending(p => p.Count); // biggest first keeps both cores busy to the end

    /// <summary>Takes every row of <paramref name="other"/>, which is left empty.</summary>
    public void MoveFrom(PendingSilver other)
    {
        MoveFrom(_vitals, other._vitals);
        MoveFrom(_labs, other._labs);
        MoveFrom(_demographics, other._demographics);
        MoveFrom(_adverseEvents, other._adverseEvents);
        Rows += other.Rows;
        other.Clear();
    }

    private static void MoveFrom<T>(Dictionary<DateOnly, List<T>> into, Dictionary<DateOnly, List<T>> from)
    {
        foreach (var (date, rows) in from)
        {
            For(into, date).AddRange(rows);
        }
    }

    public void Clear()
    {
        _vitals.Clear();
        _labs.Clear();
        _demographics.Clear();
        _adverseEvents.Clear();
        Rows = 0;
    }

    private static List<T> For<T>(Dictionary<DateOnly, List<T>> byDate, DateOnly date)
    {
        if (!byDate.TryGetValue(date, out var list))
        {
            byDate[date] = list = [];
        }

        return list;
    }
}

/// <summary>What merging new rows into one silver file did.</summary>
internal readonly record struct SilverWrite(long Added, long DuplicateIds, long DuplicateKeys);

/// <summary>New rows for one silver file (table and clinical date).</summary>
internal abstract class SilverPartition(PayloadType type, DateOnly date)
{
    public PayloadType Type { get; } = type;

    public DateOnly Date { get; } = date;

    public abstract int Count { get; }

    public string Key => LakeLayout.SilverFile(Type, Date);

    public abstract Task<SilverWrite> MergeAsync(ILakeStorage storage, CancellationToken cancellationToken);
}

internal sealed class SilverPartition<TRow>(PayloadType type, DateOnly date, ParquetTable<TRow> table, List<TRow> added)
    : SilverPartition(type, date)
    where TRow : ISilverRow
{
    public override int Count => added.Count;

    /// <summary>
    /// Reads the stored file (if any), merges the new rows, de-duplicates, sorts and stores the result (write to a
    /// scratch file, then store it whole: readers never see a partial file).
    /// </summary>
    public override async Task<SilverWrite> MergeAsync(ILakeStorage storage, CancellationToken cancellationToken)
    {
        var existing = new List<TRow>();
        using (var lease = await storage.OpenLocalAsync(Key, cancellationToken))
        {
            if (lease is not null)
            {
                foreach (var group in table.Read(lease.Path))
                {
                    existing.AddRange(group);
                }
            }
        }

        var (rows, duplicateIds, duplicateKeys) = SilverMerge.Merge(existing, added);
        var scratch = Path.Combine(storage.ScratchDirectory, $"{Guid.NewGuid():N}.parquet");
        try
        {
            table.Write(scratch, rows);
            await storage.PutFileAsync(Key, scratch, cancellationToken);
        }
        finally
        {
            File.Delete(scratch);
        }

        return new SilverWrite(rows.Length - existing.Count, duplicateIds, duplicateKeys);
    }
}

/// <summary>
/// De-duplication as a function of the set of rows, so the result does not depend on how the input was split over runs:
/// rows are taken in arrival order (received_at, then message_id, then detail) and a row is dropped when its
/// (message_id, detail) or its natural key (patient_id, timestamp, site_id, detail) was already taken. The survivors are
/// sorted by (patient_id, timestamp, message_id, detail), the order the feature job reads.
/// </summary>
/// <remarks>
/// Usually nothing is a duplicate, and then the order rows are taken in does not matter: the rows are sorted for output
/// first, and the arrival-order pass runs only when that finds a repeated (message_id, detail) or natural key. Keys
/// are copied into structs before sorting, so comparisons neither call through the row interface nor allocate.
/// </remarks>
internal static class SilverMerge
{
    public static (TRow[] Rows, long DuplicateIds, long DuplicateKeys) Merge<TRow>(IReadOnlyList<TRow> existing, IReadOnlyList<TRow> added)
        where TRow : ISilverRow
    {
        var all = new TRow[existing.Count + added.Count];
        var fill = all.AsSpan(); // span stores skip the per-element array type check
        for (var i = 0; i < existing.Count; i++)
        {
            fill[i] = existing[i];
        }

        for (var i = 0; i < added.Count; i++)
        {
            fill[existing.Count + i] = added[i];
        }

        SortForOutput(all);
        if (!HasDuplicates(all))
        {
            return (all, 0, 0);
        }

        SortByKey(all, static row => new ArrivalKey(row.ReceivedAt.Ticks, row.MessageId, row.Detail));
        var ids = new HashSet<(Guid, string)>(all.Length);
        var keys = new HashSet<(string, long, string, string)>(all.Length);
        var kept = new List<TRow>(all.Length);
        long duplicateIds = 0, duplicateKeys = 0;
        foreach (var row in all)
        {
            if (!ids.Add((row.MessageId, row.Detail)))
            {
                duplicateIds++;
            }
            else if (!keys.Add((row.PatientId, row.Timestamp.Ticks, row.SiteId, row.Detail)))
            {
                duplicateKeys++;
            }
            else
            {
                kept.Add(row);
            }
        }

        var survivors = kept.ToArray();
        SortForOutput(survivors);
        return (survivors, duplicateIds, duplicateKeys);
    }

    /// <summary>
    /// Sorts by (patient_id, timestamp, message_id, detail). A file holds a few thousand patients and up to millions of
    /// rows: patients are ranked once in ordinal order, so most comparisons compare two integers instead of two strings.
    /// </summary>
    private static void SortForOutput<TRow>(TRow[] rows)
        where TRow : ISilverRow
    {
        var patients = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            patients.Add(row.PatientId);
        }

        var ranked = patients.ToArray();
        Array.Sort(ranked, StringComparer.Ordinal);
        var rank = new Dictionary<string, int>(ranked.Length, StringComparer.Ordinal);
        for (var i = 0; i < ranked.Length; i++)
        {
            rank[ranked[i]] = i;
        }

        SortByKey(rows, row => new OutputKey(rank[row.PatientId], row.Timestamp.Ticks, row.MessageId, row.Detail));
    }

    /// <summary>
    /// Sorts rows by a key copied out of each once. The sort moves keys and row numbers, and the rows are put in their
    /// places once at the end: moving the rows themselves would check each array store of a generic reference. The
    /// work arrays are pooled (new ones would be large objects).
    /// </summary>
    private static void SortByKey<TRow, TKey>(TRow[] rows, Func<TRow, TKey> key)
        where TKey : IComparable<TKey>
    {
        var keys = ArrayPool<TKey>.Shared.Rent(rows.Length);
        var order = ArrayPool<int>.Shared.Rent(rows.Length);
        var unsorted = ArrayPool<TRow>.Shared.Rent(rows.Length);
        try
        {
            for (var i = 0; i < rows.Length; i++)
            {
                keys[i] = key(rows[i]);
                order[i] = i;
            }

            Array.Sort(keys, order, 0, rows.Length);
            rows.CopyTo(unsorted.AsSpan());
            var sorted = rows.AsSpan();
            for (var i = 0; i < sorted.Length; i++)
            {
                sorted[i] = unsorted[order[i]];
            }
        }
        finally
        {
            ArrayPool<TKey>.Shared.Return(keys, clearArray: true);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<TRow>.Shared.Return(unsorted, clearArray: true);
        }
    }

    /// <summary>
    /// Whether rows sorted for output repeat a (message_id, detail) or a natural key, or may: a message id found under two
    /// (patient, timestamp) runs also answers true, and the arrival-order pass sorts it out. Rows with the same natural
    /// key share patient and timestamp, and so do the rows of one message, so they sit in one run of the sorted rows and
    /// are compared there; across runs only each message's id is looked up.
    /// </summary>
    private static bool HasDuplicates<TRow>(TRow[] sorted)
        where TRow : ISilverRow
    {
        var messages = new HashSet<Guid>(sorted.Length);
        for (var start = 0; start < sorted.Length;)
        {
            var end = start + 1;
            while (end < sorted.Length && sorted[end].Timestamp == sorted[start].Timestamp
                   && string.Equals(sorted[end].PatientId, sorted[start].PatientId, StringComparison.Ordinal))
            {
                end++;
            }

            for (var i = start; i < end; i++)
            {
                var firstOfMessage = true;
                for (var j = start; j < i; j++)
                {
                    var sameDetail = string.Equals(sorted[i].Detail, sorted[j].Detail, StringComparison.Ordinal);
                    if (sameDetail && (sorted[i].MessageId == sorted[j].MessageId
                                       || string.Equals(sorted[i].SiteId, sorted[j].SiteId, StringComparison.Ordinal)))
                    {
                        return true;
                    }

                    firstOfMessage &= sorted[i].MessageId != sorted[j].MessageId;
                }

                if (firstOfMessage && !messages.Add(sorted[i].MessageId))
                {
                    return true;
                }
            }

            start = end;
        }

        return false;
    }

    private readonly record struct ArrivalKey(long ReceivedAt, Guid MessageId, string Detail) : IComparable<ArrivalKey>
    {
        public int CompareTo(ArrivalKey other)
        {
            var c = ReceivedAt.CompareTo(other.ReceivedAt);
            c = c != 0 ? c : MessageId.CompareTo(other.MessageId);
            return c != 0 ? c : string.CompareOrdinal(Detail, other.Detail);
        }
    }

    private readonly record struct OutputKey(int PatientRank, long Timestamp, Guid MessageId, string Detail) : IComparable<OutputKey>
    {
        public int CompareTo(OutputKey other)
        {
            var c = PatientRank.CompareTo(other.PatientRank);
            c = c != 0 ? c : Timestamp.CompareTo(other.Timestamp);
            c = c != 0 ? c : MessageId.CompareTo(other.MessageId);
            return c != 0 ? c : string.CompareOrdinal(Detail, other.Detail);
        }
    }
}
