using static ClinicalTrials.Domain.Features.PointBand;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// The published cut-offs of the clinical scores among the features, one table per input. Each applies to the
/// latest value measured in (t - 24h, t]; what a score cannot see in our signals (mentation, consciousness,
/// ventilation, vasopressors, urine output, immature neutrophils) is left out and said so in docs/features.md.
/// </summary>
internal static class ClinicalScores
{
    /// <summary>
    /// S/F is read only up to this SpO2 (%): above it the oxyhaemoglobin curve is flat and the ratio no longer
    /// tracks PaO2/FiO2 (Rice TW et al., Chest 2007;132:410-7, whose regression the SOFA respiration bands use).
    /// </summary>
    public const int MaximumSaturationForRatio = 97;

    // SIRS: Bone RC et al., ACCP/SCCM Consensus Conference, Chest 1992;101:1644-55. 1 = criterion met.
    public static readonly PointBands SirsTemperature = new("temperature_celsius_last", [Below(36, 1), AtMost(38, 0)], 1);
    public static readonly PointBands SirsHeartRate = new("heart_rate_last", [AtMost(90, 0)], 1);
    public static readonly PointBands SirsRespiratoryRate = new("respiratory_rate_last", [AtMost(20, 0)], 1);
    public static readonly PointBands SirsPco2 = new("pco2_last", [Below(32, 1)], 0);
    public static readonly PointBands SirsWbc = new("wbc_last", [Below(4, 1), AtMost(12, 0)], 1);

    // qSOFA: Seymour CW et al., JAMA 2016;315:762-74 (Sepsis-3). 1 = criterion met.
    public static readonly PointBands QsofaRespiratoryRate = new("respiratory_rate_last", [Below(22, 0)], 1);
    public static readonly PointBands QsofaSystolicBp = new("systolic_bp_last", [AtMost(100, 1)], 0);

    // NEWS2: Royal College of Physicians, National Early Warning Score (NEWS) 2, 2017; SpO2 scale 1. Supplemental
    // oxygen is read from FiO2: above room air (21 %) the patient is on oxygen.
    public static readonly PointBands News2RespiratoryRate =
        new("respiratory_rate_last", [AtMost(8, 3), AtMost(11, 1), AtMost(20, 0), AtMost(24, 2)], 3);
    public static readonly PointBands News2Saturation = new("oxygen_saturation_last", [AtMost(91, 3), AtMost(93, 2), AtMost(95, 1)], 0);
    public static readonly PointBands News2Oxygen = new("fio2_last", [AtMost(21, 0)], 2);
    public static readonly PointBands News2SystolicBp =
        new("systolic_bp_last", [AtMost(90, 3), AtMost(100, 2), AtMost(110, 1), AtMost(219, 0)], 3);
    public static readonly PointBands News2HeartRate =
        new("heart_rate_last", [AtMost(40, 3), AtMost(50, 1), AtMost(90, 0), AtMost(110, 1), AtMost(130, 2)], 3);
    public static readonly PointBands News2Temperature =
        new("temperature_celsius_last", [AtMost(35, 3), AtMost(36, 1), AtMost(38, 0), AtMost(39, 1)], 2);

    // SOFA: Vincent JL et al., Intensive Care Med 1996;22:707-10. Respiration uses SpO2/FiO2, since no PaO2 is a
    // signal: the PaO2/FiO2 cut-offs 100, 200, 300, 400 mapped by Rice's S/F = 64 + 0.84 x P/F.
    public static readonly PointBands SofaRespiration = new("spo2_fio2_ratio", [Below(148, 4), Below(232, 3), Below(316, 2), Below(400, 1)], 0);
    public static readonly PointBands SofaCoagulation = new("plat_last", [Below(20, 4), Below(50, 3), Below(100, 2), Below(150, 1)], 0);
    public static readonly PointBands SofaLiver = new("bili_last", [Below(1.2m, 0), Below(2, 1), Below(6, 2), Below(12, 3)], 4);
    public static readonly PointBands SofaCardiovascular = new("mean_arterial_pressure", [Below(70, 1)], 0);
    public static readonly PointBands SofaRenal = new("creat_last", [Below(1.2m, 0), Below(2, 1), Below(3.5m, 2), Below(5, 3)], 4);

    /// <summary>The NEWS2 tables in the order the score lists its parameters; declared last, since static fields are set in textual order.</summary>
    public static readonly PointBands[] News2Components =
    [
        News2RespiratoryRate, News2Saturation, News2Oxygen, News2SystolicBp, News2HeartRate, News2Temperature,
    ];
}
