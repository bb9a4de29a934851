namespace ClinicalTrials.Domain.Messages;

/// <summary>The four kinds of clinical payload a site sends. The wire name is the envelope's payload key.</summary>
public enum PayloadType
{
    PatientDemographics,
    VitalSigns,
    LabResults,
    AdverseEvent,
}

public static class PayloadTypes
{
    public static readonly IReadOnlyList<PayloadType> All = Enum.GetValues<PayloadType>();

    public static string WireName(this PayloadType type) => type switch
    {
        PayloadType.PatientDemographics => "patient_demographics",
        PayloadType.VitalSigns => "vital_signs",
        PayloadType.LabResults => "lab_results",
        PayloadType.AdverseEvent => "adverse_event",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static bool TryParseWireName(string name, out PayloadType type)
    {
        foreach (var candidate in All)
        {
            if (candidate.WireName() == name)
            {
                type = candidate;
                return true;
            }
        }

        type = default;
        return false;
    }
}
