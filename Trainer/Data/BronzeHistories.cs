using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// Every accepted message of the bronze layer (<c>raw/*/date=*/hour=*/*.ndjson</c> under the data directory), parsed as
/// the patient grain parses it on replay and grouped by patient. The source for <see cref="ReplayedHistories"/> when
/// training from the journal rather than from the offline feature store.
/// </summary>
public static class BronzeHistories
{
    public static IReadOnlyDictionary<string, IReadOnlyList<ClinicalMessage>> Read(string dataDirectory)
    {
        var raw = Path.Combine(dataDirectory, BronzeRecord.RawFolder);
        var byPatient = new Dictionary<string, List<ClinicalMessage>>(StringComparer.Ordinal);
        if (!Directory.Exists(raw))
        {
            return new Dictionary<string, IReadOnlyList<ClinicalMessage>>();
        }

        var seen = new HashSet<Guid>();
        foreach (var file in Directory.EnumerateFiles(raw, "*.ndjson", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (!BronzeRecord.TryParse(System.Text.Encoding.UTF8.GetBytes(line), out var record))
                {
                    continue; // a torn tail after a crash was never acknowledged
                }

                if (ClinicalMessageParser.ParseStored(record.Raw, record.ReceivedAt, record.AcceptedUnder).Message is { } message && seen.Add(message.MessageId))
                {
                    if (!byPatient.TryGetValue(message.PatientId, out var list))
                    {
                        byPatient[message.PatientId] = list = [];
                    }

                    list.Add(message);
                }
            }
        }

        return byPatient.ToDictionary(p => p.Key, p => (IReadOnlyList<ClinicalMessage>)p.Value, StringComparer.Ordinal);
    }
}
