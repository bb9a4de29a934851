using ClinicalTrials.Models.Monitoring;

namespace ClinicalTrials.Models.Tracking;

/// <summary>An <see cref="OutcomeLabel"/> as the tracking database stores it: <c>positive</c>, <c>negative</c>, <c>censored</c>.</summary>
internal static class OutcomeText
{
    public static string Format(OutcomeLabel label) => label switch
    {
        OutcomeLabel.Positive => "positive",
        OutcomeLabel.Negative => "negative",
        OutcomeLabel.Censored => "censored",
        _ => throw new ArgumentOutOfRangeException(nameof(label)),
    };

    public static OutcomeLabel Parse(string text) => text switch
    {
        "positive" => OutcomeLabel.Positive,
        "negative" => OutcomeLabel.Negative,
        "censored" => OutcomeLabel.Censored,
        _ => throw new InvalidDataException($"'{text}' is not an outcome label."),
    };
}
