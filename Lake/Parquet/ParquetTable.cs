using System.Buffers;
using System.Runtime.CompilerServices;
using ParquetSharp;

namespace ClinicalTrials.Lake.Parquet;

/// <summary>
/// A typed Parquet table: its columns and how rows map to them. Files are written with fixed properties (Snappy, a
/// fixed created-by, fixed row-group size) and no clock in them, so the same rows always give the same bytes.
/// </summary>
internal abstract class ParquetTable<TRow>
{
    public const int RowGroupSize = 128 * 1024;

    public abstract Column[] Columns { get; }

    protected abstract void WriteColumns(RowGroupWriter group, ReadOnlySpan<TRow> rows);

    protected abstract TRow[] ReadColumns(RowGroupReader group, int rows);

    /// <summary>Writes <paramref name="rows"/> to a new file at <paramref name="path"/>.</summary>
    public void Write(string path, IReadOnlyList<TRow> rows, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var properties = WriterProperties();
        using var writer = new ParquetFileWriter(path, Columns, properties, metadata);
        var slice = ArrayPool<TRow>.Shared.Rent(Math.Min(RowGroupSize, rows.Count));
        try
        {
            for (var offset = 0; offset < rows.Count || (offset == 0 && rows.Count == 0); offset += RowGroupSize)
            {
                var length = Math.Min(RowGroupSize, rows.Count - offset);
                for (var i = 0; i < length; i++)
                {
                    slice[i] = rows[offset + i];
                }

                using var group = writer.AppendRowGroup();
                WriteColumns(group, slice.AsSpan(0, length));
                if (rows.Count == 0)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<TRow>.Shared.Return(slice, clearArray: true);
        }

        writer.Close();
    }

    /// <summary>Every row of the file at <paramref name="path"/>, row group by row group.</summary>
    public IEnumerable<TRow[]> Read(string path)
    {
        using var reader = new ParquetFileReader(path);
        for (var g = 0; g < reader.FileMetaData.NumRowGroups; g++)
        {
            using var group = reader.RowGroup(g);
            yield return ReadColumns(group, checked((int)group.MetaData.NumRows));
        }

        reader.Close();
    }

    public static WriterProperties WriterProperties() => new WriterPropertiesBuilder()
        .DisableDictionary("message_id").DisableDictionary("timestamp").DisableDictionary("received_at")
        .Compression(Compression.Snappy)
        .CreatedBy("ClinicalTrials.Lake")
        .MaxRowGroupLength(RowGroupSize)
        .Build();

    /// <summary>Writes the next column. Its values go through a pooled array: a new one per column and row group would
    /// be a large-object allocation each time, and those bring full collections.</summary>
    protected static void Put<T>(RowGroupWriter group, ReadOnlySpan<TRow> rows, Func<TRow, T> value)
    {
        var values = ArrayPool<T>.Shared.Rent(rows.Length);
        try
        {
            for (var i = 0; i < rows.Length; i++)
            {
                values[i] = value(rows[i]);
            }

            using var writer = group.NextColumn().LogicalWriter<T>();
            writer.WriteBatch(values.AsSpan(0, rows.Length));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(values, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }
    }

    protected static T[] Get<T>(RowGroupReader group, int column, int rows)
    {
        using var reader = group.Column(column).LogicalReader<T>();
        return reader.ReadAll(rows);
    }

    protected static Column<DateTime> TimestampColumn(string name) =>
        new(name, LogicalType.Timestamp(isAdjustedToUtc: true, TimeUnit.Micros));

    /// <summary>Parquet timestamps come back without a kind; they were written as UTC.</summary>
    protected static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);
}
