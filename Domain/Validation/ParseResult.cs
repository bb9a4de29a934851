using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// The outcome of reading one raw message: either a valid <see cref="Message"/>, or the violations.
/// The identity fields are filled as far as they could be read, so a rejection can still be tracked and counted.
/// A valid message's <see cref="Violations"/> are its <see cref="ClinicalMessage.ResultIssues"/>.
/// </summary>
public sealed record ParseResult(
    ClinicalMessage? Message,
    IReadOnlyList<Violation> Violations,
    Guid? MessageId,
    string? SiteId,
    string? PatientId,
    PayloadType? PayloadType)
{
    public bool IsValid => Message is not null;

    public static ParseResult Valid(ClinicalMessage message) =>
        new(message, message.ResultIssues, message.MessageId, message.SiteId, message.PatientId, message.PayloadType);
}
