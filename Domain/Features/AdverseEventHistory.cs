using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// Every adverse event of the patient, by report time, kept whole (24 bytes each: AEs are rare and every one
/// counts in the patient's history). Keyed by message id, so a redelivered report is counted once however late.
/// </summary>
internal sealed class AdverseEventHistory
{
    private readonly List<Entry> _events = [];

    public int Count => _events.Count;

    public int SeriousCount { get; private set; }

    public int RelatedCount { get; private set; }

    public int SeveritySum { get; private set; }

    public int MaxSeverity { get; private set; }

    public int LastSeconds => _events.Count == 0 ? 0 : _events[^1].Seconds;

    public int ApproximateSizeBytes => 64 + (_events.Capacity * 24);

    /// <summary>Reports with a report second in (<paramref name="clock"/> - <paramref name="window"/>, clock].</summary>
    public int CountWithin(int clock, int window)
    {
        var (low, high) = (0, _events.Count);
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            (low, high) = _events[middle].Seconds <= clock - window ? (middle + 1, high) : (low, middle);
        }

        return _events.Count - low;
    }

    public bool Add(Guid messageId, int seconds, AdverseEvent adverseEvent) => Add(new Entry(
        messageId, seconds, (byte)adverseEvent.Severity, adverseEvent.Serious,
        adverseEvent.RelationToStudyDrug is DrugRelation.Possible or DrugRelation.Probable or DrugRelation.Definite));

    public void Write(BinaryWriter writer)
    {
        writer.Write(_events.Count);
        foreach (var entry in _events)
        {
            writer.Write(entry.MessageId.ToByteArray());
            writer.Write(entry.Seconds);
            writer.Write(entry.Severity);
            writer.Write(entry.Serious);
            writer.Write(entry.Related);
        }
    }

    public void Read(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            Add(new Entry(new Guid(reader.ReadBytes(16)), reader.ReadInt32(), reader.ReadByte(), reader.ReadBoolean(), reader.ReadBoolean()));
        }
    }

    private bool Add(Entry entry)
    {
        // A redelivery carries the same report second, so only the entries at that second can be duplicates.
        var index = _events.Count;
        while (index > 0 && _events[index - 1].Seconds >= entry.Seconds)
        {
            if (_events[index - 1].MessageId == entry.MessageId)
            {
                return false;
            }

            index--;
        }

        _events.Insert(index, entry);
        SeriousCount += entry.Serious ? 1 : 0;
        RelatedCount += entry.Related ? 1 : 0;
        SeveritySum += entry.Severity;
        MaxSeverity = Math.Max(MaxSeverity, entry.Severity);
        return true;
    }

    private readonly record struct Entry(Guid MessageId, int Seconds, byte Severity, bool Serious, bool Related);
}
