using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// One measured quantity the engine tracks. Values are held as fixed-point integers (value x <see cref="Scale"/>)
/// so that sums are exact and independent of the order events arrive in.
/// </summary>
internal sealed record Signal(string Name, string Description, string Unit, int Scale, ClinicalRange Range)
{
    /// <summary>The normal range in fixed point; a value outside it counts as abnormal.</summary>
    public int NormalMin { get; } = Quantise(Range.NormalMin, Scale);

    public int NormalMax { get; } = Quantise(Range.NormalMax, Scale);

    public int ToFixed(double value) => Quantise(value, Scale);

    public double ToValue(double fixedPoint) => fixedPoint / Scale;

    public bool IsAbnormal(int fixedPoint) => fixedPoint < NormalMin || fixedPoint > NormalMax;

    private static int Quantise(double value, int scale) =>
        (int)Math.Clamp(Math.Round(value * scale, MidpointRounding.AwayFromZero), int.MinValue + 1, int.MaxValue);
}

/// <summary>
/// The tracked signals: six vital signs (indexes 0..5), then the labs (6..): the six key labs first, then the other
/// laboratory values an ICU measures (every laboratory column of the PhysioNet/CinC 2019 challenge is one).
/// </summary>
internal static class Signals
{
    public const int VitalScale = 10;
    public const int LabScale = 1000;

    public const int SystolicBp = 0;
    public const int DiastolicBp = 1;
    public const int HeartRate = 2;
    public const int Temperature = 3;
    public const int OxygenSaturation = 4;
    public const int RespiratoryRate = 5;
    public const int VitalCount = 6;

    /// <summary>The six key labs come first among the labs; with the vitals they are the signals whose changes over hours are features.</summary>
    public const int KeyLabCount = 6;

    /// <summary>Lab codes in signal order (after the vitals). Other catalogue tests are not featurised.</summary>
    public static readonly string[] LabCodes =
    [
        "GLUC", "CREAT", "WBC", "LACT", "HGB", "PLAT",
        "BASEEXC", "BICARB", "FIO2", "PH", "PCO2", "OXYSAT", "AST", "BUN", "ALP", "CA", "CL", "BILDIR", "MG", "PHOS", "K", "BILI",
        "TROPONI", "HCT", "APTT", "FIBRINO",
    ];

    public static readonly int Creatinine = LabSignal("CREAT");
    public static readonly int Wbc = LabSignal("WBC");
    public static readonly int Platelets = LabSignal("PLAT");
    public static readonly int Fio2 = LabSignal("FIO2");
    public static readonly int Pco2 = LabSignal("PCO2");
    public static readonly int Bilirubin = LabSignal("BILI");

    public static readonly Signal[] All =
    [
        new("systolic_bp", "systolic blood pressure", "mmHg", VitalScale, VitalSignRanges.SystolicBp),
        new("diastolic_bp", "diastolic blood pressure", "mmHg", VitalScale, VitalSignRanges.DiastolicBp),
        new("heart_rate", "heart rate", "beats/min", VitalScale, VitalSignRanges.HeartRate),
        new("temperature_celsius", "body temperature", "°C", VitalScale, VitalSignRanges.TemperatureCelsius),
        new("oxygen_saturation", "oxygen saturation (SpO2)", "%", VitalScale, VitalSignRanges.OxygenSaturation),
        new("respiratory_rate", "respiratory rate", "breaths/min", VitalScale, VitalSignRanges.RespiratoryRate),
        .. LabCodes.Select(Lab),
    ];

    public static int LabCount => LabCodes.Length;

    /// <summary>The signal index of a lab code, or -1 for a lab the engine does not featurise.</summary>
    public static int LabSignal(string testCode) => Array.IndexOf(LabCodes, testCode) is var i and >= 0 ? VitalCount + i : -1;

    private static Signal Lab(string code)
    {
        if (!LabCatalogue.TryFind(code, out var test) || test is not { StandardUnit: { } unit, Range: { } range })
        {
            throw new InvalidOperationException($"Featurised lab {code} must be a quantitative blood test of the lab catalogue.");
        }

        return new Signal(code.ToLowerInvariant(), $"lab {code} ({test.Name})", unit, LabScale, range);
    }
}
