using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Lake.Jobs;

namespace ClinicalTrials.Lake.Silver;

/// <summary>Whole bronze lines, newline included, at the start of a buffer rented from the shared pool.</summary>
internal readonly record struct BronzeChunk(byte[] Buffer, int Length)
{
    public ReadOnlyMemory<byte> Lines => Buffer.AsMemory(0, Length);
}

/// <summary>
/// One core's share of a bronze-to-silver run: validates bronze lines again with the ingest rules
/// (<see cref="ClinicalMessageParser"/>) into its own pending rows and counts, so the cores share nothing while reading.
/// </summary>
internal sealed class BronzeChunkReader
{
    // The raw body is parsed at once and not kept: one buffer to unescape it into spares an array per line.
    private readonly byte[] _rawScratch = new byte[64 << 10];

    public PendingSilver Pending { get; } = new();

    public JobOutcome Outcome { get; } = new();

    public void Read(ReadOnlyMemory<byte> lines)
    {
        for (var rest = lines; !rest.IsEmpty;)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            if (end > 0)
            {
                ReadLine(rest[..end]);
            }

            rest = rest[(end + 1)..];
        }
    }

    private void ReadLine(ReadOnlyMemory<byte> line)
    {
        Outcome.RowsIn++;
        if (!BronzeRecord.TryParse(line.Span, out var record, _rawScratch))
        {
            Outcome.Count("unreadable_lines");
            return;
        }

        var result = ClinicalMessageParser.ParseStored(record.Raw, record.ReceivedAt, record.AcceptedUnder);
        // A stored message may carry issues of single values (docs/labs.md): counted beside the rejections.
        var prefix = result.Message is null ? "rejected" : "result_issue";
        if (result.Message is { } message)
        {
            Pending.Add(message, record.ReceivedAt);
        }
        else
        {
            Outcome.Count("rejected");
        }

        foreach (var reason in result.Violations.Select(v => $"{prefix}.{v.Rule}.{ViolationFields.WithoutListIndex(v.Field)}").Distinct())
        {
            Outcome.Count(reason);
        }
    }
}
