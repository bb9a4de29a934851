using ClinicalTrials.Lake.Parquet;
using ParquetSharp;

namespace ClinicalTrials.Lake.Silver;

/// <summary>
/// A silver table: the envelope columns every silver row shares (<see cref="ISilverRow"/>), in the same first six
/// places, then the payload's own columns.
/// </summary>
internal abstract class SilverTable<TRow> : ParquetTable<TRow>
    where TRow : ISilverRow
{
    private const int EnvelopeColumnCount = 6;

    protected SilverTable(Column[] payloadColumns) =>
        Columns =
        [
            new Column<string>("message_id"), new Column<string>("patient_id"), TimestampColumn("timestamp"), new Column<string>("site_id"),
            new Column<int>("study_phase"), TimestampColumn("received_at"),
            .. payloadColumns,
        ];

    public sealed override Column[] Columns { get; }

    /// <summary>Writes the payload columns, in the order the constructor named them.</summary>
    protected abstract void WritePayload(RowGroupWriter group, ReadOnlySpan<TRow> rows);

    /// <summary>Builds the rows from their envelopes and the payload columns (numbered from 0 after the envelope).</summary>
    protected abstract TRow[] ReadPayload(RowGroupReader group, SilverEnvelope[] envelopes);

    protected sealed override void WriteColumns(RowGroupWriter group, ReadOnlySpan<TRow> rows)
    {
        // Rows are written sorted by (patient, time, message): a message's rows are adjacent, so its id is formatted once.
        (Guid Id, string? Text) last = default;
        Put(group, rows, r => last.Text is not null && last.Id == r.MessageId ? last.Text : (last = (r.MessageId, r.MessageId.ToString())).Text!);
        Put(group, rows, r => r.PatientId);
        Put(group, rows, r => r.Timestamp);
        Put(group, rows, r => r.SiteId);
        Put(group, rows, r => r.StudyPhase);
        Put(group, rows, r => r.ReceivedAt);
        WritePayload(group, rows);
    }

    protected sealed override TRow[] ReadColumns(RowGroupReader group, int rows)
    {
        var (id, patient, time, site, phase, received) = (Get<string>(group, 0, rows), Get<string>(group, 1, rows),
            Get<DateTime>(group, 2, rows), Get<string>(group, 3, rows), Get<int>(group, 4, rows), Get<DateTime>(group, 5, rows));
        var envelopes = new SilverEnvelope[rows];
        for (var i = 0; i < rows; i++)
        {
            envelopes[i] = new SilverEnvelope(Guid.Parse(id[i]), patient[i], Utc(time[i]), site[i], phase[i], Utc(received[i]));
        }

        return ReadPayload(group, envelopes);
    }

    /// <summary>Payload column <paramref name="column"/> (0 = the first after the envelope).</summary>
    protected static T[] Payload<T>(RowGroupReader group, int column, int rows) => Get<T>(group, EnvelopeColumnCount + column, rows);
}

/// <summary>The envelope part of a silver row read back from a file.</summary>
internal readonly record struct SilverEnvelope(Guid MessageId, string PatientId, DateTime Timestamp, string SiteId, int StudyPhase, DateTime ReceivedAt);
