using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>A validated message on its way to its patient, with the bytes exactly as received.</summary>
[GenerateSerializer, Immutable, Alias("ingest-message")]
public sealed record IngestMessage(
    [property: Id(0)] ClinicalMessage Message,
    [property: Id(1)] byte[] Raw,
    [property: Id(2)] DateTimeOffset ReceivedAt);

/// <summary>What happened to one message: stored now, or already stored before (a retry or redelivery).</summary>
[GenerateSerializer, Immutable, Alias("ingest-outcome")]
public sealed record IngestOutcome(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] IngestStatus Status,
    [property: Id(2)] string? BronzeLocation);

[GenerateSerializer, Alias("ingest-status")]
public enum IngestStatus
{
    Accepted,
    Duplicate,
    Rejected,

    /// <summary>Not stored: the journal could not make it durable (a batch answers 503 and lists which ones). Retry it.</summary>
    Unavailable,
}
