using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Generator;

/// <summary>
/// A deterministic synthetic trial: patients with stable profiles whose vitals and labs drift, some of whom go
/// through deterioration episodes that raise the chance of an adverse event in the following hours. That link is
/// what gives the adverse-event model something real to learn. Same seed, same messages.
/// </summary>
public sealed class SyntheticTrial
{
    private static readonly string[] Arms = ["TREATMENT", "PLACEBO", "CONTROL"];
    private static readonly string[] Phases = ["Phase I", "Phase II", "Phase III", "Phase IV"];
    private static readonly string[] Terms =
        ["Nausea", "Headache", "Fatigue", "Dizziness", "Rash", "Hypotension", "Tachycardia", "Fever", "Dyspnoea", "Acute kidney injury"];

    private readonly Random _random;
    private readonly SimulatedPatient[] _patients;
    private readonly double _invalidShare;
    private readonly double _shift;

    /// <param name="seed">The same seed gives the same messages.</param>
    /// <param name="patients">How many patients.</param>
    /// <param name="sites">How many sites they are spread over.</param>
    /// <param name="invalidShare">Share of deliberately invalid messages, 0 to 1.</param>
    /// <param name="shift">
    /// A population shift for drift monitoring, 0 (none) to 1: patients older by up to 25 years, higher glucose and
    /// creatinine, lower haemoglobin. It moves values only, so the same seed sends the same messages otherwise.
    /// </param>
    public SyntheticTrial(int seed, int patients, int sites, double invalidShare, double shift = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shift);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shift, 1);
        _random = new Random(seed);
        _invalidShare = invalidShare;
        _shift = shift;
        _patients = Enumerable.Range(0, patients).Select(_ => NewPatient(sites)).ToArray();
    }

    /// <summary>Every patient's pseudonymous ID, in the order they were created.</summary>
    public IReadOnlyList<string> PatientIds => [.. _patients.Select(p => p.Id)];

    /// <summary>The next message at clinical time <paramref name="at"/>; <paramref name="valid"/> is false for a deliberately invalid one.</summary>
    public JsonObject Next(DateTimeOffset at, out bool valid)
    {
        var patient = _patients[_random.Next(_patients.Length)];
        patient.Advance(at, _random);
        var message = patient.Messages == 0 ? Demographics(patient) : PickByMix(patient, at);
        patient.Messages++;
        var envelope = new JsonObject
        {
            ["message_id"] = NewGuid().ToString(),
            ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
            ["study_phase"] = patient.Phase,
            ["site_id"] = patient.SiteId,
        };
        foreach (var (key, value) in message)
        {
            envelope[key] = value?.DeepClone();
        }

        valid = _random.NextDouble() >= _invalidShare;
        if (!valid)
        {
            Corrupt(envelope, at);
        }

        return envelope;
    }

    private JsonObject PickByMix(SimulatedPatient patient, DateTimeOffset at)
    {
        // Traffic mix from the design: 15% demographics, 40% vitals, 30% labs, 15% adverse events. Adverse events
        // are drawn at that rate overall but land on the patients whose risk is high right now.
        var roll = _random.NextDouble();
        return roll switch
        {
            < 0.15 => Demographics(patient),
            < 0.55 => Vitals(patient),
            < 0.85 => Labs(patient),
            _ => AdverseEventFor(PatientAtRisk(patient, at), at),
        };
    }

    private SimulatedPatient PatientAtRisk(SimulatedPatient candidate, DateTimeOffset at)
    {
        // Pick the riskiest of a few patients, so events concentrate where physiology has deteriorated.
        var best = candidate;
        for (var i = 0; i < 4; i++)
        {
            var other = _patients[_random.Next(_patients.Length)];
            other.Advance(at, _random);
            if (other.Messages > 0 && other.Risk > best.Risk)
            {
                best = other;
            }
        }

        return best;
    }

    private static JsonObject Demographics(SimulatedPatient p) => new()
    {
        ["patient_demographics"] = new JsonObject
        {
            ["patient_id"] = p.Id,
            ["age"] = p.Age,
            ["gender"] = p.Gender,
            ["weight_kg"] = p.WeightKg,
            ["height_cm"] = p.HeightCm,
            ["enrollment_date"] = p.EnrollmentDate.ToString("yyyy-MM-dd"),
            ["trial_arm"] = p.Arm,
        },
    };

    private JsonObject Vitals(SimulatedPatient p)
    {
        var d = p.Deterioration;
        var vitals = new JsonObject { ["patient_id"] = p.Id };
        var systolic = Math.Round(p.Systolic - 25 * d + Noise(6), 0);
        vitals["systolic_bp"] = systolic;
        vitals["diastolic_bp"] = Math.Round(Math.Min(systolic - 15, p.Diastolic - 12 * d + Noise(4)), 0);
        vitals["heart_rate"] = Math.Round(p.HeartRate + 35 * d + Noise(5), 0);
        vitals["temperature_celsius"] = Math.Round(36.8 + 1.8 * d + Noise(0.25), 1);
        vitals["oxygen_saturation"] = Math.Round(Math.Min(100, 97.5 - 7 * d + Noise(1)), 0);
        vitals["respiratory_rate"] = Math.Round(15 + 9 * d + Noise(1.5), 0);
        if (_random.NextDouble() < 0.1)
        {
            vitals.Remove("temperature_celsius");
        }

        return new JsonObject { ["vital_signs"] = vitals };
    }

    private JsonObject Labs(SimulatedPatient p)
    {
        var d = p.Deterioration;
        var results = new JsonArray();
        void Add(string code, double value, string unit) =>
            results.Add(new JsonObject { ["test_code"] = code, ["value"] = value, ["unit"] = unit });

        // Some sites report glucose and creatinine in SI units; the platform standardises them.
        var glucose = p.Glucose + 70 * _shift + 40 * d + Noise(8);
        var creatinine = 0.9 + 0.9 * _shift + 1.2 * d + Noise(0.1);
        if (p.SiUnits)
        {
            Add("GLUC", Math.Round(glucose / 18.016, 2), "mmol/L");
            Add("CREAT", Math.Round(creatinine * 88.42, 0), "umol/L");
        }
        else
        {
            Add("GLUC", Math.Round(glucose, 0), "mg/dL");
            Add("CREAT", Math.Round(Math.Max(0.3, creatinine), 2), "mg/dL");
        }

        Add("WBC", Math.Round(Math.Max(1, 7 + 8 * d + Noise(1.2)), 1), "10^9/L");
        Add("LACT", Math.Round(Math.Max(0.3, 1.1 + 3 * d + Noise(0.3)), 1), "mmol/L");
        Add("HGB", Math.Round(14 - 2.5 * _shift - 2 * d + Noise(0.6), 1), "g/dL");
        Add("PLAT", Math.Round(Math.Max(20, 250 - 90 * d + Noise(30)), 0), "10^9/L");
        if (_random.NextDouble() < 0.3)
        {
            Add("ALT", Math.Round(Math.Max(5, 25 + 60 * d + Noise(6)), 0), "U/L");
            Add("AST", Math.Round(Math.Max(5, 24 + 50 * d + Noise(6)), 0), "U/L");
            Add("CHOL", Math.Round(190 + Noise(25), 0), "mg/dL");
        }

        return new JsonObject { ["lab_results"] = new JsonObject { ["patient_id"] = p.Id, ["results"] = results } };
    }

    private JsonObject AdverseEventFor(SimulatedPatient p, DateTimeOffset at)
    {
        var d = p.Deterioration;
        var severity = d > 0.6 ? "SEVERE" : d > 0.25 ? "MODERATE" : "MILD";
        string[] relations = ["NOT_RELATED", "UNLIKELY", "POSSIBLE", "PROBABLE", "DEFINITE"];
        return new JsonObject
        {
            ["adverse_event"] = new JsonObject
            {
                ["patient_id"] = p.Id,
                ["event_term"] = Terms[_random.Next(Terms.Length)],
                ["severity"] = severity,
                ["serious"] = d > 0.6 && _random.NextDouble() < 0.5,
                ["relation_to_study_drug"] = relations[_random.Next(relations.Length)],
                ["onset"] = at.AddMinutes(-_random.Next(0, 90)).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            },
        };
    }

    private void Corrupt(JsonObject envelope, DateTimeOffset at)
    {
        var payload = (JsonObject)envelope.Single(p => p.Key is not ("message_id" or "timestamp" or "study_phase" or "site_id")).Value!;
        switch (_random.Next(5))
        {
            case 0:
                envelope["timestamp"] = at.AddDays(2).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ");
                break;
            case 1:
                payload.Remove("patient_id");
                break;
            case 2:
                payload["age"] = 190;
                payload["heart_rate"] = 450;
                payload["results"] = new JsonArray(new JsonObject { ["test_code"] = "GLUC", ["value"] = 5000, ["unit"] = "mg/dL" });
                payload["event_term"] = "";
                break;
            case 3:
                envelope["study_phase"] = "Phase V";
                break;
            default:
                payload["patient_id"] = "patient-7";
                break;
        }
    }

    private SimulatedPatient NewPatient(int sites)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        var id = "PT" + new string(Enumerable.Range(0, 8).Select(_ => alphabet[_random.Next(alphabet.Length)]).ToArray());
        var height = Math.Round(150 + _random.NextDouble() * 45, 0);
        return new SimulatedPatient(
            id,
            $"SITE{_random.Next(1, sites + 1):D3}",
            Phases[_random.Next(Phases.Length)],
            Math.Min(100, _random.Next(18, 86) + (int)Math.Round(25 * _shift)),
            _random.NextDouble() < 0.5 ? "M" : "F",
            Math.Round(height * height / 10000 * (19 + _random.NextDouble() * 13), 1),
            height,
            DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-_random.Next(10, 400))),
            Arms[_random.Next(Arms.Length)],
            _random.NextDouble() < 0.3,
            Frailty: _random.NextDouble())
        {
            Systolic = 110 + _random.NextDouble() * 25,
            Diastolic = 70 + _random.NextDouble() * 12,
            HeartRate = 64 + _random.NextDouble() * 20,
            Glucose = 80 + _random.NextDouble() * 25,
        };
    }

    private Guid NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }

    private double Noise(double scale)
    {
        // Box-Muller: normal noise from two uniforms, deterministic under the seed.
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private sealed record SimulatedPatient(
        string Id, string SiteId, string Phase, int Age, string Gender, double WeightKg, double HeightCm,
        DateOnly EnrollmentDate, string Arm, bool SiUnits, double Frailty)
    {
        public double Systolic { get; init; }
        public double Diastolic { get; init; }
        public double HeartRate { get; init; }
        public double Glucose { get; init; }
        public int Messages { get; set; }

        /// <summary>0 = stable, 1 = severely deteriorated; rises during an episode and recovers after it.</summary>
        public double Deterioration { get; private set; }

        private DateTimeOffset? _episodeStart;
        private DateTimeOffset _lastAdvance = DateTimeOffset.MinValue;

        public double Risk => Deterioration + 0.2 * Frailty;

        public void Advance(DateTimeOffset at, Random random)
        {
            if (_lastAdvance == DateTimeOffset.MinValue)
            {
                _lastAdvance = at;
            }

            var hours = Math.Max(0, (at - _lastAdvance).TotalHours);
            _lastAdvance = at > _lastAdvance ? at : _lastAdvance;
            if (_episodeStart is null && random.NextDouble() < 1 - Math.Exp(-hours * (0.01 + 0.04 * Frailty)))
            {
                _episodeStart = at;
            }

            if (_episodeStart is { } start)
            {
                // An episode builds over ~12 h and resolves by ~36 h.
                var t = (at - start).TotalHours;
                Deterioration = t < 12 ? t / 12 : Math.Max(0, 1 - (t - 12) / 24);
                if (t > 36)
                {
                    _episodeStart = null;
                    Deterioration = 0;
                }
            }
        }
    }
}
