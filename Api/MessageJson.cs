using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ClinicalTrials.Api;

/// <summary>
/// Writes our own message (the snake_case JSON contract) for the adapters that map another standard to it (FHIR,
/// SDTM), so that what they build takes the one ingest path and its one set of rules.
/// </summary>
internal static class MessageJson
{
    private static readonly int IdStart = Encoding.UTF8.GetByteCount("{\"message_id\":\"");
    private const int IdLength = 36;

    /// <summary>The message: envelope, then the payload named <paramref name="payload"/> that <paramref name="writePayload"/> fills.</summary>
    public static byte[] Write(Guid messageId, DateTimeOffset at, string studyPhase, string siteId, string payload, Action<Utf8JsonWriter> writePayload)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("message_id", messageId);
            w.WriteString("timestamp", at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
            w.WriteString("study_phase", studyPhase);
            w.WriteString("site_id", siteId);
            w.WriteStartObject(payload);
            writePayload(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// A message whose id is derived from its content (everything after the id) within <paramref name="scope"/>: the same
    /// content sent again has the same id, so the journal answers it duplicate and stores nothing twice.
    /// </summary>
    public static byte[] WriteWithContentId(string scope, DateTimeOffset at, string studyPhase, string siteId, string payload, Action<Utf8JsonWriter> writePayload)
    {
        var message = Write(Guid.Empty, at, studyPhase, siteId, payload, writePayload);
        var scopeBytes = Encoding.UTF8.GetBytes(scope);
        var content = message.AsSpan(IdStart + IdLength);
        var basis = new byte[scopeBytes.Length + 1 + content.Length];
        scopeBytes.CopyTo(basis, 0);
        basis[scopeBytes.Length] = 0;
        content.CopyTo(basis.AsSpan(scopeBytes.Length + 1));
        var id = NameBasedId(basis);
        Encoding.ASCII.GetBytes(id.ToString("D"), message.AsSpan(IdStart, IdLength));
        return message;
    }

    /// <summary>A UUID derived from <paramref name="name"/>, shaped as a name-based UUID (version 5 layout, SHA-256 digest).</summary>
    public static Guid NameBasedId(ReadOnlySpan<byte> name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(name, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
