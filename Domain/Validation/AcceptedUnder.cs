namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// How a stored message was accepted, recorded in its bronze line: the rules it was judged by
/// (<see cref="ClinicalMessageParser.RulesVersion"/>) and the field paths of the values and lab results set aside then
/// (e.g. <c>vital_signs.heart_rate</c>, <c>lab_results.results[2]</c>). Replay reads the message back to exactly what
/// was accepted (<see cref="ClinicalMessageParser.ParseStored"/>).
/// </summary>
public sealed record AcceptedUnder(string Rules, IReadOnlyList<string> SetAside)
{
    /// <summary>For a line written before the rules were recorded, that today's rules would reject: read as sent.</summary>
    public static AcceptedUnder Unrecorded { get; } = new("unrecorded", []);

    /// <summary>What a message accepted now records.</summary>
    public static AcceptedUnder Now(Messages.ClinicalMessage message) => new(ClinicalMessageParser.RulesVersion, message.SetAside);
}
