using System.Runtime.InteropServices;
using System.Text.Json;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>One message as received (its exact bytes) with the result of validating it.</summary>
public sealed record ReceivedMessage(ReadOnlyMemory<byte> Raw, ParseResult Parsed)
{
    public static ReceivedMessage Parse(ReadOnlyMemory<byte> raw, DateTimeOffset receivedAt) =>
        new(raw, ClinicalMessageParser.Parse(raw, receivedAt));

    /// <summary>One element of a JSON array batch; its raw bytes are the element's original text.</summary>
    public static ReceivedMessage FromElement(JsonElement element, DateTimeOffset receivedAt) =>
        new(JsonMarshal.GetRawUtf8Value(element).ToArray(), ClinicalMessageParser.Parse(element, receivedAt));
}

/// <summary>The answer for one message: its status, where it is stored, or why it was rejected.</summary>
public sealed record IngestResult(
    Guid? MessageId,
    Interfaces.IngestStatus Status,
    string? Location,
    IReadOnlyList<Violation> Violations);
