using System.Buffers;
using System.Text;
using System.Text.Unicode;
using System.Text.Encodings.Web;
using System.Text.Json;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Lake;

/// <summary>
/// One line of the bronze (raw) and quarantine NDJSON files. The message is kept exactly as received, as a JSON
/// string in <c>raw</c>, so a pretty-printed or malformed body still fits on one line and nothing is rewritten.
/// </summary>
/// <remarks>
/// Line shape: <c>{"message_id":"…","received_at":"…","raw":"…"}</c>, plus <c>"violations":[{field,rule,message}]</c>
/// in quarantine. <c>message_id</c> is absent when the body had none that could be read. A body that is not valid
/// UTF-8 (only ever in quarantine) is kept byte for byte as <c>raw_base64</c> instead of <c>raw</c>.
/// </remarks>
public sealed record BronzeRecord(Guid? MessageId, DateTimeOffset ReceivedAt, ReadOnlyMemory<byte> Raw, IReadOnlyList<Violation> Violations)
{
    // Only what JSON itself requires is escaped (quotes, backslashes, control characters): the default encoder would
    // also write every quote of the raw body as \u0022, doubling bronze on disk and the work of writing and reading it.
    // The files are data, never embedded in HTML, so the HTML-safe escaping buys nothing.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Partition folder of a bronze file: <c>raw/{payload_type}/date=YYYY-MM-DD/hour=HH</c> (received time, UTC).</summary>
    public static string RawPartition(PayloadType type, DateTimeOffset receivedAt) =>
        $"raw/{type.WireName()}/{TimePartition(receivedAt)}";

    /// <summary>Partition folder of a quarantine file: <c>quarantine/date=YYYY-MM-DD/hour=HH</c>.</summary>
    public static string QuarantinePartition(DateTimeOffset receivedAt) => $"quarantine/{TimePartition(receivedAt)}";

    private static string TimePartition(DateTimeOffset at) => $"date={at.UtcDateTime:yyyy-MM-dd}/hour={at.UtcDateTime:HH}";

    /// <summary>Writes the record as one UTF-8 line, newline included.</summary>
    public void WriteLine(IBufferWriter<byte> output)
    {
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
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

        output.Write("\n"u8);
    }

    public byte[] ToLine()
    {
        // Escaping adds a backslash per quote of the body: room for that up front spares the buffer's regrowth.
        var buffer = new ArrayBufferWriter<byte>((Raw.Length * 5 / 4) + 128);
        WriteLine(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one line; false for a line that is not a bronze record (a torn tail after a crash).</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out BronzeRecord record)
    {
        record = null!;
        try
        {
            var reader = new Utf8JsonReader(line);
            Guid? id = null;
            DateTimeOffset? receivedAt = null;
            byte[]? raw = null;
            var violations = new List<Violation>();
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "message_id": id = reader.GetGuid(); break;
                    case "received_at": receivedAt = new DateTimeOffset(reader.GetDateTime().ToUniversalTime()); break;
                    case "raw": raw = Encoding.UTF8.GetBytes(reader.GetString()!); break;
                    case "raw_base64": raw = reader.GetBytesFromBase64(); break;
                    case "violations": ReadViolations(ref reader, violations); break;
                    default: reader.Skip(); break;
                }
            }

            if (receivedAt is null || raw is null)
            {
                return false;
            }

            record = new BronzeRecord(id, receivedAt.Value, raw, violations);
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
