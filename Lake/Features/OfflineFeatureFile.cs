using System.Globalization;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Lake.Parquet;
using ParquetSharp;

namespace ClinicalTrials.Lake.Features;

/// <summary>One offline feature row: a patient's vector as of <see cref="Timestamp"/> and the label after it.</summary>
/// <param name="PatientId">The pseudonymous patient ID.</param>
/// <param name="Timestamp">The evaluation time t (a whole hour, UTC); the features use only events with timestamp &lt;= t.</param>
/// <param name="Features">The values in <see cref="OfflineFeatureSchema.FeatureNames"/> order; NaN where missing.</param>
/// <param name="Label">True when an adverse event has its onset in (t, t + horizon].</param>
public sealed record OfflineFeatureRow(string PatientId, DateTimeOffset Timestamp, double[] Features, bool Label);

/// <summary>What the offline feature files of a range hold: the feature set version and names, and the label.</summary>
public sealed record OfflineFeatureSchema(string FeatureVersion, IReadOnlyList<string> FeatureNames, string LabelColumn, int LabelHorizonHours);

/// <summary>
/// The Parquet shape of <c>features/offline/date=…/part-NNN.parquet</c>: <c>patient_id</c>, <c>timestamp</c>, one double
/// column per feature (named as <see cref="FeatureCatalogue.Names"/>, NaN for missing) and the boolean label
/// <c>adverse_event_{H}h</c>. Key-value metadata: <c>feature_version</c>, <c>label_column</c>, <c>label_horizon_hours</c>.
/// </summary>
internal static class OfflineFeatureFile
{
    public const string VersionKey = "feature_version";
    public const string LabelColumnKey = "label_column";
    public const string HorizonKey = "label_horizon_hours";

    public static string LabelColumn(int horizonHours) => $"adverse_event_{horizonHours}h";

    public static Column[] Columns(int horizonHours) =>
    [
        new Column<string>("patient_id"),
        new Column<DateTime>("timestamp", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
        .. FeatureCatalogue.Names.Select(name => (Column)new Column<double>(name)),
        new Column<bool>(LabelColumn(horizonHours)),
    ];

    public static Dictionary<string, string> Metadata(int horizonHours) => new()
    {
        [VersionKey] = FeatureCatalogue.Version,
        [LabelColumnKey] = LabelColumn(horizonHours),
        [HorizonKey] = horizonHours.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Writes rows as one row group (the caller bounds how many).</summary>
    public static void WriteGroup(ParquetFileWriter writer, IReadOnlyList<OfflineFeatureRow> rows)
    {
        using var group = writer.AppendRowGroup();
        Write(group, rows.Select(r => r.PatientId).ToArray());
        Write(group, rows.Select(r => r.Timestamp.UtcDateTime).ToArray());
        var column = new double[rows.Count];
        for (var f = 0; f < FeatureCatalogue.Count; f++)
        {
            for (var i = 0; i < rows.Count; i++)
            {
                column[i] = rows[i].Features[f];
            }

            Write(group, column);
        }

        Write(group, rows.Select(r => r.Label).ToArray());
    }

    public static OfflineFeatureSchema Schema(ParquetFileReader reader)
    {
        var metadata = reader.FileMetaData.KeyValueMetadata;
        var schema = reader.FileMetaData.Schema;
        var names = Enumerable.Range(2, schema.NumColumns - 3).Select(i => schema.Column(i).Name).ToArray();
        return new OfflineFeatureSchema(
            metadata.GetValueOrDefault(VersionKey) ?? "unknown", names,
            metadata.GetValueOrDefault(LabelColumnKey) ?? schema.Column(schema.NumColumns - 1).Name,
            int.Parse(metadata.GetValueOrDefault(HorizonKey) ?? "24", CultureInfo.InvariantCulture));
    }

    public static IEnumerable<OfflineFeatureRow> Read(ParquetFileReader reader, int featureCount)
    {
        for (var g = 0; g < reader.FileMetaData.NumRowGroups; g++)
        {
            using var group = reader.RowGroup(g);
            var n = checked((int)group.MetaData.NumRows);
            var patients = Read<string>(group, 0, n);
            var times = Read<DateTime>(group, 1, n);
            var rows = new double[n][];
            for (var i = 0; i < n; i++)
            {
                rows[i] = new double[featureCount];
            }

            for (var f = 0; f < featureCount; f++)
            {
                var values = Read<double>(group, 2 + f, n);
                for (var i = 0; i < n; i++)
                {
                    rows[i][f] = values[i];
                }
            }

            var labels = Read<bool>(group, 2 + featureCount, n);
            for (var i = 0; i < n; i++)
            {
                yield return new OfflineFeatureRow(patients[i], new DateTimeOffset(DateTime.SpecifyKind(times[i], DateTimeKind.Utc)), rows[i], labels[i]);
            }
        }
    }

    private static void Write<T>(RowGroupWriter group, T[] values)
    {
        using var writer = group.NextColumn().LogicalWriter<T>();
        writer.WriteBatch(values);
    }

    private static T[] Read<T>(RowGroupReader group, int column, int rows)
    {
        using var reader = group.Column(column).LogicalReader<T>();
        return reader.ReadAll(rows);
    }

    /// <summary>Writer properties for feature files: as silver (deterministic bytes), without dictionaries for the doubles.</summary>
    public static WriterProperties WriterProperties() => ParquetTable<OfflineFeatureRow>.WriterProperties();
}
