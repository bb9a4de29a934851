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

    public long Rows { get; private set; }

    public void Add(ClinicalMessage message, DateTimeOffset receivedAt)
    {
        var (id, patient, time, site, phase, received) = (message.MessageId, message.PatientId, SilverRows.Micros(message.Timestamp),
            message.SiteId, (int)message.StudyPhase, SilverRows.Micros(receivedAt));
        var date = DateOnly.FromDateTime(time);
        switch (message.Payload)
        {
            case VitalSigns v:
                Rows++;
                For(_vitals, date).Add(new VitalRow(id, patient, time, site, phase, received,
                    v.SystolicBp, v.DiastolicBp, v.HeartRate, v.TemperatureCelsius, v.OxygenSaturation, v.RespiratoryRate));
                break;
            case LabResults labs:
                var list = For(_labs, date);
                foreach (var r in labs.Results)
                {
                    Rows++;
                    list.Add(new LabRow(id, patient, time, site, phase, received, r.TestCode, r.Value, r.Unit, r.OriginalValue, r.OriginalUnit));
                }

                break;
            case PatientDemographics d:
                Rows++;
                For(_demographics, date).Add(new DemographicsRow(id, patient, time, site, phase, received,
                    d.Age, SilverRows.Wire(d.Gender), d.WeightKg, d.HeightCm, d.EnrollmentDate, d.TrialArm));
                break;
            case AdverseEvent a:
                Rows++;
                For(_adverseEvents, date).Add(new AdverseEventRow(id, patient, time, site, phase, received,
                    a.EventTerm, SilverRows.Wire(a.Severity), a.Serious, SilverRows.Wire(a.RelationToStudyDrug), SilverRows.Micros(a.Onset)));
                break;
        }
    }

    public IEnumerable<SilverPartition> Partitions() =>
        _vitals.Select(p => (SilverPartition)new SilverPartition<VitalRow>(PayloadType.VitalSigns, p.Key, VitalTable.Instance, p.Value))
            .Concat(_labs.Select(p => new SilverPartition<LabRow>(PayloadType.LabResults, p.Key, LabTable.Instance, p.Value)))
            .Concat(_demographics.Select(p => new SilverPartition<DemographicsRow>(PayloadType.PatientDemographics, p.Key, DemographicsTable.Instance, p.Value)))
            .Concat(_adverseEvents.Select(p => new SilverPartition<AdverseEventRow>(PayloadType.AdverseEvent, p.Key, AdverseEventTable.Instance, p.Value)))
            .OrderByDescending(p => p.Count); // biggest first keeps both cores busy to the end

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

        return new SilverWrite(rows.Count - existing.Count, duplicateIds, duplicateKeys);
    }
}

/// <summary>
/// De-duplication as a function of the set of rows, so the result does not depend on how the input was split over runs:
/// rows are taken in arrival order (received_at, then message_id, then detail) and a row is dropped when its
/// (message_id, detail) or its natural key (patient_id, timestamp, site_id, detail) was already taken. The survivors are
/// sorted by (patient_id, timestamp, message_id, detail), the order the feature job reads.
/// </summary>
internal static class SilverMerge
{
    public static (List<TRow> Rows, long DuplicateIds, long DuplicateKeys) Merge<TRow>(IReadOnlyList<TRow> existing, IReadOnlyList<TRow> added)
        where TRow : ISilverRow
    {
        var all = new TRow[existing.Count + added.Count];
        for (var i = 0; i < existing.Count; i++)
        {
            all[i] = existing[i];
        }

        for (var i = 0; i < added.Count; i++)
        {
            all[existing.Count + i] = added[i];
        }

        Array.Sort(all, static (a, b) =>
        {
            var c = a.ReceivedAt.CompareTo(b.ReceivedAt);
            c = c != 0 ? c : a.MessageId.CompareTo(b.MessageId);
            return c != 0 ? c : string.CompareOrdinal(a.Detail, b.Detail);
        });

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

        kept.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.PatientId, b.PatientId);
            c = c != 0 ? c : a.Timestamp.CompareTo(b.Timestamp);
            c = c != 0 ? c : a.MessageId.CompareTo(b.MessageId);
            return c != 0 ? c : string.CompareOrdinal(a.Detail, b.Detail);
        });
        return (kept, duplicateIds, duplicateKeys);
    }
}
