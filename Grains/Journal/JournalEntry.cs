using System.Security.Cryptography;
using ClinicalTrials.Domain.Lake;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// One received message for the journal: accepted when it has no violations, otherwise rejected (quarantined). An
/// accepted lab message may carry <see cref="ResultIssues"/>: results rejected or flagged on their own (docs/labs.md).
/// Identity fields are whatever could be read; a rejected body may have none. The bronze line is encoded when the
/// entry is made, on the caller's thread, so the journal's single writer only copies bytes. An accepted entry's line
/// records how it was accepted (<see cref="AcceptedUnder"/>), so replay reads it back the same whatever the rules become.
/// <para>
/// The journal stores a message once however often it is delivered: an accepted one by its message_id, a rejected
/// one by its <see cref="RejectionKey"/> (the bytes as received). A repeat is answered <see cref="IngestStatus.Duplicate"/>.
/// </para>
/// </summary>
public sealed record JournalEntry(
    Guid? MessageId,
    DateTimeOffset ReceivedAt,
    string? PatientId,
    string? SiteId,
    PayloadType? PayloadType,
    DateTimeOffset? EventTime,
    ReadOnlyMemory<byte> Raw,
    IReadOnlyList<Violation> Violations,
    int AbnormalFlags,
    AcceptedUnder? AcceptedUnder = null)
{
    public bool IsAccepted => Violations.Count == 0;

    /// <summary>Issues of single results of an accepted message (none for a rejected one: its violations say it all).</summary>
    public IReadOnlyList<Violation> ResultIssues { get; init; } = [];

    /// <summary>What the ledger keeps and counts for the message: its violations, or the issues of its results.</summary>
    public IReadOnlyList<Violation> Reasons => IsAccepted ? ResultIssues : Violations;

    private readonly byte[]? _rejectionKey;

    /// <summary>
    /// What makes a rejection the same one when it is delivered again (a broker's redelivery, a client's resend): the
    /// SHA-256 of the bytes as received. Not the message_id: a message that is not JSON has none, and two different
    /// invalid bodies sent with one id are two rejections. <see cref="Rejected"/> takes it before a body holding a
    /// direct identifier is dropped; an entry made otherwise has that of <see cref="Raw"/>.
    /// </summary>
    public byte[] RejectionKey
    {
        get => _rejectionKey ?? SHA256.HashData(Raw.Span);
        init => _rejectionKey = value;
    }

    private EncodedLine _line = EncodedLine.Of(MessageId, ReceivedAt, Raw, Violations, AcceptedUnder);

    /// <summary>
    /// The bronze (or quarantine) NDJSON line, newline included: always that of the entry's own values, also of a copy
    /// made with <c>with</c> (which starts from the original's line and is encoded again when it differs).
    /// </summary>
    public byte[] Line
    {
        get
        {
            if (!_line.Encodes(MessageId, ReceivedAt, Raw, Violations, AcceptedUnder))
            {
                _line = EncodedLine.Of(MessageId, ReceivedAt, Raw, Violations, AcceptedUnder);
            }

            return _line.Bytes;
        }
    }

    /// <summary>The partition folder the line belongs in.</summary>
    public string Partition => IsAccepted
        ? BronzeRecord.RawPartition(PayloadType!.Value, ReceivedAt)
        : BronzeRecord.QuarantinePartition(ReceivedAt);

    public static JournalEntry Accepted(IngestMessage message) => new(
        message.Message.MessageId,
        message.ReceivedAt,
        message.Message.PatientId,
        message.Message.SiteId,
        message.Message.PayloadType,
        message.Message.Timestamp,
        message.Raw,
        [],
        message.Message.Flags.Count,
        AcceptedUnder.Now(message.Message))
    {
        ResultIssues = message.Message.ResultIssues,
    };

    /// <summary>A rejected message; one holding a direct identifier is kept without its body, so the identifier is stored nowhere.</summary>
    public static JournalEntry Rejected(ParseResult result, ReadOnlyMemory<byte> raw, DateTimeOffset receivedAt) => new(
        result.MessageId, receivedAt, result.PatientId, result.SiteId, result.PayloadType, null,
        result.Violations.Any(v => v.Rule == Rules.DirectIdentifier) ? ReadOnlyMemory<byte>.Empty : raw, result.Violations, 0)
    {
        RejectionKey = SHA256.HashData(raw.Span),
    };

    /// <summary>A bronze line with the values it was encoded from.</summary>
    private sealed class EncodedLine(
        Guid? messageId, DateTimeOffset receivedAt, ReadOnlyMemory<byte> raw, IReadOnlyList<Violation> violations, AcceptedUnder? acceptedUnder, byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        public static EncodedLine Of(
            Guid? messageId, DateTimeOffset receivedAt, ReadOnlyMemory<byte> raw, IReadOnlyList<Violation> violations, AcceptedUnder? acceptedUnder) =>
            new(messageId, receivedAt, raw, violations, acceptedUnder,
                new BronzeRecord(messageId, receivedAt, raw, violations) { AcceptedUnder = acceptedUnder }.ToLine());

        public bool Encodes(Guid? id, DateTimeOffset at, ReadOnlyMemory<byte> body, IReadOnlyList<Violation> broken, AcceptedUnder? accepted) =>
            id == messageId && at == receivedAt && body.Equals(raw) && ReferenceEquals(broken, violations) && ReferenceEquals(accepted, acceptedUnder);
    }
}

/// <summary>
/// What the journal did with one entry, and its ledger sequence (0 when no row was written: a duplicate, that is a
/// message_id already accepted or a rejection already quarantined).
/// </summary>
public sealed record JournalAppend(IngestStatus Status, string? Location, long Sequence);

/// <summary>Where a message is in the pipeline, as <c>GET /api/clinical/messages/{id}</c> shows it.</summary>
public sealed record MessageRecord(
    Guid MessageId,
    IngestStatus Status,
    string? PatientId,
    string? SiteId,
    string? PayloadType,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? EventTime,
    string Location,
    IReadOnlyList<Violation> Violations);

/// <summary>A stored, accepted message read back for a patient's replay.</summary>
/// <summary>An accepted message read back from the journal, with how it was accepted (null in lines written before that was recorded).</summary>
public sealed record StoredMessage(long Sequence, DateTimeOffset ReceivedAt, byte[] Raw, AcceptedUnder? AcceptedUnder)
{
    /// <summary>The message as it was accepted (<see cref="ClinicalMessageParser.ParseStored"/>).</summary>
    public ParseResult Parse() => ClinicalMessageParser.ParseStored(Raw, ReceivedAt, AcceptedUnder);
}

/// <summary>Counts by site, payload type and outcome ("accepted", "duplicate", "rejected", "flagged").</summary>
public sealed record CounterRow(string SiteId, string PayloadType, string Outcome, long Count);

/// <summary>Rejections by site, field and rule.</summary>
public sealed record ReasonRow(string SiteId, string Field, string Rule, long Count);

/// <summary>A patient with accepted messages, and the sites that sent them (one, unless the patient moved).</summary>
public sealed record JournalPatient(string PatientId, IReadOnlyList<string> SiteIds);

/// <summary>A consistent read of the counters.</summary>
public sealed record CounterSnapshot(IReadOnlyList<CounterRow> Counters, IReadOnlyList<ReasonRow> Reasons);
