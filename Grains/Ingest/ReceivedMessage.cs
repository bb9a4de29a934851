using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Grains.Ingest;

/// <summary>One message as received (its exact bytes) with the result of validating it.</summary>
public sealed record ReceivedMessage(ReadOnlyMemory<byte> Raw, ParseResult Parsed)
{
    public static ReceivedMessage Parse(ReadOnlyMemory<byte> raw, DateTimeOffset receivedAt) =>
        new(raw, ClinicalMessageParser.Parse(raw, receivedAt));
}

/// <summary>The answer for one message: its status, where it is stored, or why it was rejected.</summary>
public sealed record IngestResult(
    Guid? MessageId,
    Interfaces.IngestStatus Status,
    string? Location,
    IReadOnlyList<Violation> Violations);
