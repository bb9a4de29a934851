using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Lake;

/// <summary>
/// One line of the bronze (raw) and quarantine NDJSON files. The message is kept exactly as received, as a JSON
/// string in <c>raw</c>, so a pretty-printed or malformed body still fits on one line and nothing is rewritten.
/// </summary>
/// <remarks>
/// Line shape: <c>{"message_id":"…","received_at":"…","raw":"…"}</c>, plus <c>"violations":[{field,rule,message}]</c>
/// in quarantine, and in bronze <c>"rules":"…"</c> with <c>"set_aside":["…"]</c> when values were set aside
/// (<see cref="AcceptedUnder"/>; absent in lines written before they were recorded). <c>message_id</c> is absent when the body had none that could be read. A body that is not valid
/// UTF-8 (only ever in quarantine) is kept byte for byte as <c>raw_base64</c> instead of <c>raw</c>.
/// </remarks>
public sealed record BronzeRecord(Guid? MessageId, DateTimeOffset ReceivedAt, ReadOnlyMemory<byte> Raw, IReadOnlyList<Violation> Violations)
{
    /// <summary>How an accepted message was accepted; null in quarantine and in lines written before it was recorded.</summary>
    public AcceptedUnder? AcceptedUnder { get; init; }

    // Only what JSON itself requires is escaped (quotes, backslashes, control characters): the default encoder would
    // also write every quote of the raw body as \u0022, doubling bronze on disk and the work of writing and reading it.
    // The files are data, never embedded in HTML, so the HTML-safe escaping buys nothing.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The top folder of bronze files, in the data directory and in the lake storage.</summary>
    public const string RawFolder = "raw";

    /// <summary>The top folder of quarantine files.</summary>
    public const string QuarantineFolder = "quarantine";

    /// <summary>Partition folder of a bronze file: <c>raw/{payload_type}/date=YYYY-MM-DD/hour=HH</c> (received time, UTC).</summary>
    public static string RawPartition(PayloadType type, DateTimeOffset receivedAt) =>
        $"{RawFolder}/{type.WireName()}/{TimePartition(receivedAt)}";

    /// <summary>Partition folder of a quarantine file: <c>quarantine/date=YYYY-MM-DD/hour=HH</c>.</summary>
    public static string QuarantinePartition(DateTimeOffset receivedAt) => $"{QuarantineFolder}/{TimePartition(receivedAt)}";

    private static string TimePartition(DateTimeOffset at) => $"date={at.UtcDateTime:yyyy-MM-dd}/hour={at.UtcDateTime:HH}";

    // One writer and buffer per thread, reused line after line, so the line itself is the only allocation. The buffer
    // keeps the size of the longest line its thread wrote (at most the largest body the gateway takes).
    [ThreadStatic]
    private static (Utf8JsonWriter Writer, ArrayBufferWriter<byte> Buffer)? t_lineWriter;

    /// <summary>The record as one UTF-8 line, newline included.</summary>
    public byte[] ToLine()
    {
        var (writer, buffer) = t_lineWriter ??= (new Utf8JsonWriter(Stream.Null, WriterOptions), new ArrayBufferWriter<byte>(4096));
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        Write(writer);
        writer.Flush();
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        if (MessageId is { } id)
        {
            writer.WriteString("message_id", id);
        }

        writer.WriteString("received_at", ReceivedAt.UtcDateTime);
        if (Utf8.IsValid(Raw.Span))
        {
            writer.WriteString("raw", Raw.Span);
        }
        else
        {
            writer.WriteBase64String("raw_base64", Raw.Span);
        }

        if (AcceptedUnder is { } accepted)
        {
            writer.WriteString("rules", accepted.Rules);
            if (accepted.SetAside.Count > 0)
            {
                writer.WriteStartArray("set_aside");
                foreach (var field in accepted.SetAside)
                {
                    writer.WriteStringValue(field);
                }

                writer.WriteEndArray();
            }
        }

        if (Violations.Count > 0)
        {
            writer.WriteStartArray("violations");
            foreach (var violation in Violations)
            {
                writer.WriteStartObject();
                writer.WriteString("field", violation.Field);
                writer.WriteString("rule", violation.Rule);
                writer.WriteString("message", violation.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads one line; false for a line that is not a bronze record (a torn tail after a crash).</summary>
    /// <param name="line">The line, without its newline.</param>
    /// <param name="record">The record read.</param>
    /// <param name="rawScratch">
    /// Where to unescape the raw body when it fits, instead of a new array: then the record's <see cref="Raw"/> borrows
    /// it, valid until the caller reuses it. For readers that parse the body at once and keep nothing of it.
    /// </param>
    public static bool TryParse(ReadOnlySpan<byte> line, out BronzeRecord record, byte[]? rawScratch = null)
    {
        record = null!;
        try
        {
            var reader = new Utf8JsonReader(line);
            Guid? id = null;
            DateTimeOffset? receivedAt = null;
            ReadOnlyMemory<byte>? raw = null;
            List<Violation>? violations = null;
            string? rules = null;
            List<string>? setAside = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message_id"u8))
                {
                    reader.Read();
                    id = reader.GetGuid();
                }
                else if (reader.ValueTextEquals("received_at"u8))
                {
                    reader.Read();
                    receivedAt = new DateTimeOffset(reader.GetDateTime().ToUniversalTime());
                }
                else if (reader.ValueTextEquals("raw"u8))
                {
                    reader.Read();
                    raw = Unescaped(ref reader, rawScratch);
                }
                else if (reader.ValueTextEquals("raw_base64"u8))
                {
                    reader.Read();
                    raw = reader.GetBytesFromBase64();
                }
                else if (reader.ValueTextEquals("rules"u8))
                {
                    reader.Read();
                    rules = reader.GetString();
                }
                else if (reader.ValueTextEquals("set_aside"u8))
                {
                    reader.Read();
                    setAside = [];
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        setAside.Add(reader.GetString()!);
                    }
                }
                else if (reader.ValueTextEquals("violations"u8))
                {
                    reader.Read();
                    ReadViolations(ref reader, violations ??= []);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (receivedAt is null || raw is null)
            {
                return false;
            }

            record = new BronzeRecord(id, receivedAt.Value, raw.Value, violations ?? (IReadOnlyList<Violation>)[])
            {
                AcceptedUnder = rules is null ? null : new AcceptedUnder(rules, setAside ?? (IReadOnlyList<string>)[]),
            };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The UTF-8 bytes of a string value, unescaped straight into an array (no string in between).</summary>
    private static ReadOnlyMemory<byte> Unescaped(ref Utf8JsonReader reader, byte[]? scratch)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new InvalidOperationException("raw must be a string.");
        }

        // Unescaping only ever shortens: the escaped length is room enough.
        var bytes = scratch is not null && scratch.Length >= reader.ValueSpan.Length ? scratch : new byte[reader.ValueSpan.Length];
        return bytes.AsMemory(0, reader.CopyString(bytes));
    }

    private static void ReadViolations(ref Utf8JsonReader reader, List<Violation> violations)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            string field = "", rule = "", message = "";
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                var value = reader.GetString() ?? "";
                switch (name)
                {
                    case "field": field = value; break;
                    case "rule": rule = value; break;
                    case "message": message = value; break;
                }
            }

            violations.Add(new Violation(field, rule, message));
        }
    }
}
