using System.Globalization;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Lake;

/// <summary>
/// The lake's key layout, the same on every storage:
/// <c>raw/{payload_type}/date=YYYY-MM-DD/hour=HH/part-*.ndjson</c> (bronze, received time),
/// <c>processed/{payload_type}/date=YYYY-MM-DD/part-0.parquet</c> (silver, clinical time),
/// <c>features/offline/date=YYYY-MM-DD/part-NNN.parquet</c> (offline features), <c>models/…</c>.
/// </summary>
public static class LakeLayout
{
    public const string Raw = $"{BronzeRecord.RawFolder}/";
    public const string Quarantine = $"{BronzeRecord.QuarantineFolder}/";
    public const string Processed = "processed/";
    public const string OfflineFeatures = "features/offline/";
    public const string Models = "models/";

    public static string SilverPrefix(PayloadType type) => $"{Processed}{type.WireName()}/";

    /// <summary>The one silver file of a table and clinical date; its name is fixed so a re-run replaces it.</summary>
    public static string SilverFile(PayloadType type, DateOnly date) => $"{SilverPrefix(type)}{DatePartition(date)}/part-0.parquet";

    public static string FeaturePartition(DateOnly date) => $"{OfflineFeatures}{DatePartition(date)}/";

    public static string FeatureFile(DateOnly date, int bucket) => $"{FeaturePartition(date)}part-{bucket:D3}.parquet";

    public static string DatePartition(DateOnly date) => $"date={date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";

    /// <summary>The date of the <c>date=YYYY-MM-DD</c> folder in a key, if it has one.</summary>
    public static DateOnly? DateOf(string key)
    {
        var at = key.IndexOf("date=", StringComparison.Ordinal);
        return at >= 0 && key.Length >= at + 15
            && DateOnly.TryParseExact(key.AsSpan(at + 5, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : null;
    }

    /// <summary>Rejects keys that could leave the lake's root.</summary>
    public static void CheckKey(string key)
    {
        if (key.Length == 0 || key.StartsWith('/') || key.Contains('\\') || key.Split('/').Any(part => part is ".." or "." or ""))
        {
            throw new ArgumentException($"'{key}' is not a lake key (a relative path with forward slashes).", nameof(key));
        }
    }
}
