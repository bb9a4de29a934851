using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ClinicalTrials.Generator.PhysioNet;

/// <summary>Where the converted stays go: the site and phase of every envelope and the timeline the stays are placed on.</summary>
/// <param name="SiteId">The envelope's <c>site_id</c> (the hospital the set comes from).</param>
/// <param name="StudyPhase">The envelope's <c>study_phase</c>.</param>
/// <param name="Start">The earliest admission; a stay is admitted <c>record number mod SpreadDays</c> days after it.</param>
/// <param name="SpreadDays">Days the admissions are spread over, so the lake's date partitions are not all one day.</param>
public sealed record PhysioNetTimeline(string SiteId, string StudyPhase, DateTimeOffset Start, int SpreadDays)
{
    public static PhysioNetTimeline Default { get; } = new("PHYSIONET-B", "Phase IV", new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero), 180);
}

/// <summary>
/// Converts a challenge stay to the platform's messages: demographics at the first hour, one vital-signs and one
/// lab-results message per hour that measured any, and sepsis onset as a SEVERE, serious adverse event <c>SEPSIS</c>
/// at t_sepsis, which the challenge places 6 hours after the first <c>SepsisLabel</c> = 1 row. Each hour is
/// admission + <c>ICULOS</c> hours. Message IDs are derived from the record and the hour, so importing a stay twice
/// stores it once.
/// </summary>
public static class PhysioNetMessages
{
    public const string SepsisTerm = "SEPSIS";

    /// <summary>Hours from the first <c>SepsisLabel</c> = 1 row to t_sepsis, as the challenge defines the label.</summary>
    public const int SepsisLabelLeadHours = 6;

    /// <summary>The challenge's vital-sign columns and the message fields they become.</summary>
    public static readonly IReadOnlyList<(string Column, string Field)> Vitals =
    [
        ("HR", "heart_rate"), ("O2Sat", "oxygen_saturation"), ("Temp", "temperature_celsius"), ("SBP", "systolic_bp"),
        ("MAP", "mean_arterial_pressure"), ("DBP", "diastolic_bp"), ("Resp", "respiratory_rate"), ("EtCO2", "etco2"),
    ];

    /// <summary>
    /// The challenge's laboratory columns: the lab catalogue's test code and the unit the values are in. Lactate and
    /// magnesium are sent in the unit their magnitudes show (mmol/L, mg/dL), not the one the challenge's text names.
    /// </summary>
    public static readonly IReadOnlyList<(string Column, string Code, string Unit)> Labs =
    [
        ("BaseExcess", "BASEEXC", "mmol/L"), ("HCO3", "BICARB", "mmol/L"), ("FiO2", "FIO2", "1"), ("pH", "PH", "[pH]"),
        ("PaCO2", "PCO2", "mm[Hg]"), ("SaO2", "OXYSAT", "%"), ("AST", "AST", "IU/L"), ("BUN", "BUN", "mg/dL"),
        ("Alkalinephos", "ALP", "IU/L"), ("Calcium", "CA", "mg/dL"), ("Chloride", "CL", "mmol/L"), ("Creatinine", "CREAT", "mg/dL"),
        ("Bilirubin_direct", "BILDIR", "mg/dL"), ("Glucose", "GLUC", "mg/dL"), ("Lactate", "LACT", "mmol/L"), ("Magnesium", "MG", "mg/dL"),
        ("Phosphate", "PHOS", "mg/dL"), ("Potassium", "K", "mmol/L"), ("Bilirubin_total", "BILI", "mg/dL"), ("TroponinI", "TROPONI", "ng/mL"),
        ("Hct", "HCT", "%"), ("Hgb", "HGB", "g/dL"), ("PTT", "APTT", "s"), ("WBC", "WBC", "10^3/uL"),
        ("Fibrinogen", "FIBRINO", "mg/dL"), ("Platelets", "PLAT", "10^3/uL"),
    ];

    /// <summary>Columns read into demographics, timestamps and the adverse event.</summary>
    public static readonly IReadOnlyList<string> Context = ["Age", "Gender", "Unit1", "Unit2", "ICULOS", "SepsisLabel"];

    /// <summary>Columns of the challenge no message field holds: <c>HospAdmTime</c> (hours from hospital to ICU admission).</summary>
    public static IEnumerable<string> Unmapped(PhysioNetStay stay) =>
        stay.Columns.Where(c => !Vitals.Any(v => v.Column == c) && !Labs.Any(l => l.Column == c) && !Context.Contains(c));

    /// <summary><c>PT</c> + <c>PN</c> + the record's six digits, e.g. p100001 → PTPN100001.</summary>
    /// <exception cref="InvalidDataException">The record name is not <c>p</c> and six digits.</exception>
    public static string PatientId(string record) =>
        record.Length == 7 && record[0] == 'p' && record[1..].All(char.IsAsciiDigit)
            ? "PTPN" + record[1..]
            : throw new InvalidDataException($"{record}: a challenge record is named p and six digits.");

    /// <summary>When the stay was admitted to the ICU (ICULOS 0) on the timeline.</summary>
    public static DateTimeOffset Admission(string record, PhysioNetTimeline timeline)
    {
        _ = PatientId(record);
        return timeline.Start.AddDays(int.Parse(record[1..], CultureInfo.InvariantCulture) % timeline.SpreadDays);
    }

    /// <summary>The stay's messages in clinical order (the adverse event last).</summary>
    public static List<JsonObject> Convert(PhysioNetStay stay, PhysioNetTimeline timeline)
    {
        var patientId = PatientId(stay.Record);
        var admission = Admission(stay.Record, timeline);
        var messages = new List<JsonObject>();
        var iculos = stay.IndexOf("ICULOS");
        if (iculos < 0 || stay.Rows.Count == 0)
        {
            throw new InvalidDataException($"{stay.Record}: no ICULOS column or no rows.");
        }

        DateTimeOffset At(double?[] row) => admission.AddHours(row[iculos] ?? throw new InvalidDataException($"{stay.Record}: a row without ICULOS."));

        var first = stay.Rows[0];
        var unit = stay.Value(first, "Unit1") == 1 ? "MICU" : stay.Value(first, "Unit2") == 1 ? "SICU" : "UNKNOWN";
        var gender = stay.Value(first, "Gender") switch { 0 => "F", 1 => "M", _ => "UNKNOWN" };
        var demographics = new JsonObject { ["patient_id"] = patientId, ["gender"] = gender, ["trial_arm"] = unit };
        demographics["enrollment_date"] = admission.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (stay.Value(first, "Age") is { } age)
        {
            demographics["age"] = (int)Math.Round(age, MidpointRounding.AwayFromZero);
        }

        messages.Add(Envelope(stay.Record, "demographics", At(first), timeline, "patient_demographics", demographics));
        foreach (var row in stay.Rows)
        {
            var at = At(row);
            var vitals = new JsonObject { ["patient_id"] = patientId };
            foreach (var (column, field) in Vitals)
            {
                if (stay.Value(row, column) is { } value)
                {
                    vitals[field] = value;
                }
            }

            if (vitals.Count > 1)
            {
                messages.Add(Envelope(stay.Record, "vitals", at, timeline, "vital_signs", vitals));
            }

            var results = new JsonArray();
            foreach (var (column, code, unitText) in Labs)
            {
                if (stay.Value(row, column) is { } value)
                {
                    results.Add(new JsonObject { ["test_code"] = code, ["value"] = value, ["unit"] = unitText });
                }
            }

            if (results.Count > 0)
            {
                messages.Add(Envelope(stay.Record, "labs", at, timeline, "lab_results", new JsonObject { ["patient_id"] = patientId, ["results"] = results }));
            }
        }

        if (stay.Rows.FirstOrDefault(r => stay.Value(r, "SepsisLabel") == 1) is { } labelled)
        {
            var onset = At(labelled).AddHours(SepsisLabelLeadHours);
            messages.Add(Envelope(stay.Record, "sepsis", onset, timeline, "adverse_event", new JsonObject
            {
                ["patient_id"] = patientId,
                ["event_term"] = SepsisTerm,
                ["severity"] = "SEVERE",
                ["serious"] = true,
                ["relation_to_study_drug"] = "NOT_RELATED",
                ["onset"] = Timestamp(onset),
            }));
        }

        return messages;
    }

    private static JsonObject Envelope(string record, string kind, DateTimeOffset at, PhysioNetTimeline timeline, string payloadName, JsonObject payload) => new()
    {
        ["message_id"] = MessageId(record, kind, at).ToString(),
        ["timestamp"] = Timestamp(at),
        ["study_phase"] = timeline.StudyPhase,
        ["site_id"] = timeline.SiteId,
        [payloadName] = payload,
    };

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>A name-based ID (the first 16 bytes of SHA-256, with the RFC 9562 version 8 and variant bits).</summary>
    private static Guid MessageId(string record, string kind, DateTimeOffset at)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"physionet-2019/{record}/{kind}/{at.UtcTicks}"))[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
