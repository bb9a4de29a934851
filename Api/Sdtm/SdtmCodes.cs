using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Api.Sdtm;

/// <summary>How SDTM codes meet our fields, both ways (import and export read the same tables).</summary>
internal static class SdtmCodes
{
    /// <summary>
    /// <c>sourceSystem.name</c> of the datasets this platform writes: their USUBJIDs are already our pseudonymous patient
    /// ids, and an import keeps them.
    /// </summary>
    public const string SourceSystemName = "ClinicalTrials";

    /// <summary>The domains taken and written.</summary>
    public static readonly string[] Domains = ["DM", "VS", "LB", "AE"];

    /// <summary>A vital sign: its VSTESTCD, VSTEST, our field, its standard unit as written and the spellings taken for it.</summary>
    public sealed record Vital(string Code, string Name, string Field, string Unit, string[] Units);

    /// <summary>In export order; PULSE is read as heart rate too, and written as HR.</summary>
    public static readonly Vital[] Vitals =
    [
        new("SYSBP", "Systolic Blood Pressure", "systolic_bp", "mmHg", ["mmHg", "mm[Hg]"]),
        new("DIABP", "Diastolic Blood Pressure", "diastolic_bp", "mmHg", ["mmHg", "mm[Hg]"]),
        new("HR", "Heart Rate", "heart_rate", "beats/min", ["beats/min", "/min", "bpm", "{beats}/min"]),
        new("TEMP", "Temperature", "temperature_celsius", "C", ["C", "Cel", "°C"]),
        new("OXYSAT", "Oxygen Saturation", "oxygen_saturation", "%", ["%"]),
        new("RESP", "Respiratory Rate", "respiratory_rate", "breaths/min", ["breaths/min", "/min", "{breaths}/min"]),
        new("MAP", "Mean Arterial Pressure", "mean_arterial_pressure", "mmHg", ["mmHg", "mm[Hg]"]),
    ];

    private static readonly Dictionary<string, Vital> VitalsByCode =
        Vitals.Append(Vitals[2] with { Code = "PULSE" }).ToDictionary(v => v.Code, StringComparer.OrdinalIgnoreCase);

    public static bool TryVital(string code, out Vital vital) => VitalsByCode.TryGetValue(code, out vital!);

    /// <summary>Temperature sent in Fahrenheit (VSSTRESU F) is stored in Celsius.</summary>
    public static readonly string[] Fahrenheit = ["F", "[degF]", "°F"];

    /// <summary>AEREL (sponsor-defined terms in practice) as our relation to the study drug.</summary>
    public static DrugRelation? Relation(string aerel) => aerel.ToUpperInvariant() switch
    {
        "NOT RELATED" or "NONE" or "N" or "NO" => DrugRelation.NotRelated,
        "UNLIKELY RELATED" or "UNLIKELY" or "REMOTE" => DrugRelation.Unlikely,
        "POSSIBLY RELATED" or "POSSIBLE" => DrugRelation.Possible,
        "PROBABLY RELATED" or "PROBABLE" => DrugRelation.Probable,
        "RELATED" or "DEFINITELY RELATED" or "DEFINITE" or "Y" or "YES" => DrugRelation.Definite,
        _ => null,
    };

    /// <summary>Our relation to the study drug as AEREL.</summary>
    public static string Aerel(DrugRelation relation) => relation switch
    {
        DrugRelation.NotRelated => "NOT RELATED",
        DrugRelation.Unlikely => "UNLIKELY RELATED",
        DrugRelation.Possible => "POSSIBLY RELATED",
        DrugRelation.Probable => "PROBABLY RELATED",
        _ => "RELATED",
    };

    /// <summary>SEX (CDISC C66731) as our gender, and back.</summary>
    public static Gender? Gender(string sex) => sex.ToUpperInvariant() switch
    {
        "M" => Domain.Messages.Gender.Male,
        "F" => Domain.Messages.Gender.Female,
        "U" => Domain.Messages.Gender.Unknown,
        "UNDIFFERENTIATED" or "INTERSEX" => Domain.Messages.Gender.Other,
        _ => null,
    };

    public static string Sex(Gender gender) => gender switch
    {
        Domain.Messages.Gender.Male => "M",
        Domain.Messages.Gender.Female => "F",
        Domain.Messages.Gender.Other => "UNDIFFERENTIATED",
        _ => "U",
    };

    /// <summary>LBSPEC values our lab catalogue reads as its default specimen (blood, serum or plasma).</summary>
    public static bool IsBloodSpecimen(string? specimen) =>
        specimen is null || specimen.ToUpperInvariant() is "BLOOD" or "SERUM" or "PLASMA" or "SERUM OR PLASMA" or "WHOLE BLOOD" or "VENOUS BLOOD" or "ARTERIAL BLOOD";
}
