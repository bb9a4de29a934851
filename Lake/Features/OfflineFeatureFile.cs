using ClinicalTrials.Domain.Features;
using ClinicalTrials.Lake.Parquet;
using ParquetSharp;

namespace ClinicalTrials.Lake.Features;

/// <summary>
/// One offline feature row: a patient's vector as of <see cref="Timestamp"/>. It holds no label: labels are derived at
/// training time from the adverse events (<c>OutcomeTimeline</c>), for whatever outcome and horizon the run asks for.
/// </summary>
/// <param name="PatientId">The pseudonymous patient ID.</param>
/// <param name="Timestamp">The evaluation time t (a whole hour, UTC); the features use only events with timestamp &lt;= t.</param>
/// <param name="Features">The values in <see cref="OfflineFeatureSchema.FeatureNames"/> order; NaN where missing.</param>
public sealed record OfflineFeatureRow(string PatientId, DateTimeOffset Timestamp, double[] Features);

/// <summary>What the offline feature files of a range hold: the feature set version and names.</summary>
public sealed record OfflineFeatureSchema(string FeatureVersion, IReadOnlyList<string> FeatureNames);

/// <summary>
/// The Parquet shape of <c>features/offline/date=…/part-NNN.parquet</c>: <c>patient_id</c>, <c>timestamp</c> and one double
/// column per feature (named as <see cref="FeatureCatalogue.Names"/>, NaN for missing). Key-value metadata:
/// <c>feature_version</c>. Files written before labels moved to training time end with a boolean label column named by
/// the metadata key <c>label_column</c>; it is skipped.
/// </summary>
internal static class OfflineFeatureFile
{
    public const string VersionKey = "feature_version";
    private const string LegacyLabelColumnKey = "label_column";

    public static Column[] Columns() =>
    [
        new Column<string>("patient_id"),
        new Column<DateTime>("timestamp", LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros)),
        .. FeatureCatalogue.Names.Select(name => (Column)new Column<double>(name)),
    ];

    public static Dictionary<string, string> Metadata() => new() { [VersionKey] = FeatureCatalogue.Version };

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
    }

    public static OfflineFeatureSchema Schema(ParquetFileReader reader)
    {
        var metadata = reader.FileMetaData.KeyValueMetadata;
        var schema = reader.FileMetaData.Schema;
        var labelColumns = metadata.ContainsKey(LegacyLabelColumnKey) ? 1 : 0;
        var names = Enumerable.Range(2, schema.NumColumns - 2 - labelColumns).Select(i => schema.Column(i).Name).ToArray();
        return new OfflineFeatureSchema(metadata.GetValueOrDefault(VersionKey) ?? "unknown", names);
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

            for (var i = 0; i < n; i++)
            {
                yield return new OfflineFeatureRow(patients[i], new DateTimeOffset(DateTime.SpecifyKind(times[i], DateTimeKind.Utc)), rows[i]);
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
