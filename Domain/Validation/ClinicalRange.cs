namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// Two nested intervals for one measurement: outside <see cref="PossibleMin"/>..<see cref="PossibleMax"/>
/// a value cannot come from a living patient (rejected); outside <see cref="NormalMin"/>..<see cref="NormalMax"/>
/// it is clinically abnormal (accepted and flagged).
/// </summary>
public sealed record ClinicalRange(double PossibleMin, double PossibleMax, double NormalMin, double NormalMax)
{
    public bool IsPossible(double value) => value >= PossibleMin && value <= PossibleMax;

    public bool IsNormal(double value) => value >= NormalMin && value <= NormalMax;
}

/// <summary>Adult reference ranges for vital signs, keyed by wire field name.</summary>
public static class VitalSignRanges
{
    public static readonly ClinicalRange SystolicBp = new(40, 300, 90, 140);
    public static readonly ClinicalRange DiastolicBp = new(20, 200, 60, 90);
    public static readonly ClinicalRange HeartRate = new(20, 300, 60, 100);
    public static readonly ClinicalRange TemperatureCelsius = new(25, 45, 36.1, 37.8);
    public static readonly ClinicalRange OxygenSaturation = new(50, 100, 95, 100);
    public static readonly ClinicalRange RespiratoryRate = new(4, 70, 12, 20);
    public static readonly ClinicalRange MeanArterialPressure = new(20, 250, 70, 100);
    public static readonly ClinicalRange EndTidalCo2 = new(0, 150, 35, 45);
}

/// <summary>Possible limits for demographics.</summary>
public static class DemographicRanges
{
    public static readonly ClinicalRange Age = new(0, 120, 18, 85);
    public static readonly ClinicalRange WeightKg = new(1, 500, 40, 150);
    public static readonly ClinicalRange HeightCm = new(30, 272, 140, 210);
}
