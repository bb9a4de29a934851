using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Generator;

/// <summary>
/// A deterministic synthetic trial, shaped after published trial safety data (docs/synthetic-trial.md): each patient
/// is enrolled once (one demographics message, rarely updated), then sends vitals and labs about hourly. Adverse events
/// are rare (a few per cent of patient-days) and most follow a deterioration episode: vitals and labs drift for hours
/// before the onset, which is what gives the adverse-event model something real to learn; a minority come without
/// warning, as nausea or a rash do. Same seed, same messages.
/// </summary>
public sealed class SyntheticTrial
{
    private static readonly string[] Arms = ["TREATMENT", "PLACEBO", "CONTROL"];
    private static readonly string[] Phases = ["Phase I", "Phase II", "Phase III", "Phase IV"];

    /// <summary>Events that follow physiological deterioration.</summary>
    private static readonly string[] DeteriorationTerms = ["Hypotension", "Tachycardia", "Fever", "Dyspnoea", "Acute kidney injury"];

    /// <summary>Events that come without warning in vitals or labs.</summary>
    private static readonly string[] SuddenTerms = ["Nausea", "Headache", "Fatigue", "Dizziness", "Rash"];

    /// <summary>Share of a patient's later messages that update the demographics (a new weight).</summary>
    private const double DemographicsUpdateShare = 0.002;

    /// <summary>Of the remaining messages, the share of vital signs (the rest are lab panels): the design's 40:30.</summary>
    private const double VitalsShare = 4.0 / 7;

    private readonly Random _random;
    private readonly SimulatedPatient[] _patients;
    private readonly double _invalidShare;
    private readonly double _shift;
    private readonly double _signal;
    private readonly double _eventRate;

    /// <param name="seed">The same seed gives the same messages.</param>
    /// <param name="patients">How many patients.</param>
    /// <param name="sites">How many sites they are spread over.</param>
    /// <param name="invalidShare">Share of deliberately invalid messages, 0 to 1.</param>
    /// <param name="shift">
    /// A population shift for drift monitoring, 0 (none) to 1: patients older by up to 25 years, higher glucose and
    /// creatinine, lower haemoglobin. It moves values only, so the same seed sends the same messages otherwise.
    /// </param>
    /// <param name="conceptDrift">
    /// Concept drift for monitoring: the deterioration before an event moves every vital sign and lab the opposite way
    /// (heart rate, temperature, glucose, lactate fall; blood pressure, saturation, haemoglobin, platelets rise), so a
    /// model trained without it ranks the patients at risk last. Events, their timing and rate are unchanged, and the
    /// same seed sends the same messages otherwise.
    /// </param>
    /// <param name="eventRate">
    /// Multiplies the hazard of deterioration episodes and adverse events: 1 is the realistic trial; an enriched trial
    /// (e.g. 8) gives a handful of patients enough events for a small test.
    /// </param>
    public SyntheticTrial(int seed, int patients, int sites, double invalidShare, double shift = 0, double eventRate = 1, bool conceptDrift = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shift);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shift, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eventRate);
        _random = new Random(seed);
        _invalidShare = invalidShare;
        _shift = shift;
        _signal = conceptDrift ? -1 : 1;
        _eventRate = eventRate;
        _patients = Enumerable.Range(0, patients).Select(_ => NewPatient(sites)).ToArray();
    }

    /// <summary>Every patient's pseudonymous ID, in the order they were created.</summary>
    public IReadOnlyList<string> PatientIds => [.. _patients.Select(p => p.Id)];

    /// <summary>The next message at clinical time <paramref name="at"/>; <paramref name="valid"/> is false for a deliberately invalid one.</summary>
    public JsonObject Next(DateTimeOffset at, out bool valid)
    {
        var patient = _patients[_random.Next(_patients.Length)];
        patient.Advance(at, _random, _eventRate);
        var message = patient.Messages == 0 ? Demographics(patient)
            : patient.TakeDueEvent(at) is { } due ? AdverseEvent(patient, due)
            : _random.NextDouble() < DemographicsUpdateShare ? Demographics(patient.WeighAgain(Noise(1.5)))
            : _random.NextDouble() < VitalsShare ? Vitals(patient)
            : Labs(patient);
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
        var d = _signal * p.Deterioration;
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
        var d = _signal * p.Deterioration;
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

    /// <summary>The report of an event, sent with the patient's next message after its onset.</summary>
    private JsonObject AdverseEvent(SimulatedPatient p, PendingEvent due)
    {
        // Mostly mild or moderate; severe (CTCAE grade 3+) and serious events are the minority (docs/synthetic-trial.md).
        var roll = _random.NextDouble();
        var severity = due.AfterDeterioration
            ? roll < 0.2 ? "SEVERE" : roll < 0.6 ? "MODERATE" : "MILD"
            : roll < 0.8 ? "MILD" : "MODERATE";
        string[] relations = ["NOT_RELATED", "UNLIKELY", "POSSIBLE", "PROBABLE", "DEFINITE"];
        var terms = due.AfterDeterioration ? DeteriorationTerms : SuddenTerms;
        return new JsonObject
        {
            ["adverse_event"] = new JsonObject
            {
                ["patient_id"] = p.Id,
                ["event_term"] = terms[_random.Next(terms.Length)],
                ["severity"] = severity,
                ["serious"] = severity == "SEVERE" && _random.NextDouble() < 0.5,
                ["relation_to_study_drug"] = relations[_random.Next(relations.Length)],
                ["onset"] = due.Onset.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
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
        var site = $"SITE{_random.Next(1, sites + 1):D3}";
        var phase = Phases[_random.Next(Phases.Length)];
        var age = _random.Next(18, 86);
        return new SimulatedPatient(
            id,
            site,
            phase,
            Math.Min(100, age + (int)Math.Round(25 * _shift)),
            _random.NextDouble() < 0.5 ? "M" : "F",
            Math.Round(height * height / 10000 * (19 + _random.NextDouble() * 13), 1),
            height,
            DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-_random.Next(10, 400))),
            Arms[_random.Next(Arms.Length)],
            _random.NextDouble() < 0.3,
            // Older patients are frailer (more episodes, more of them ending in an event); from the age before any
            // --shift, so a shifted population moves its values, not its event rate.
            Frailty: 0.6 * (age - 18) / 67.0 + 0.4 * _random.NextDouble())
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

    /// <summary>An adverse event that has happened (or will) and is reported with the patient's next message after its onset.</summary>
    private sealed record PendingEvent(DateTimeOffset Onset, bool AfterDeterioration);

    private sealed record SimulatedPatient(
        string Id, string SiteId, string Phase, int Age, string Gender, double WeightKg, double HeightCm,
        DateOnly EnrollmentDate, string Arm, bool SiUnits, double Frailty)
    {
        // Hazards per hour at eventRate 1, chosen so that a few per cent of patient-days hold an adverse event, most
        // of them after a deterioration episode: docs/synthetic-trial.md.
        private const double EpisodeHazard = 0.0008;
        private const double EpisodeHazardPerFrailty = 0.0016;
        private const double SuddenEventHazard = 0.0002;

        /// <summary>An episode builds over this many hours, then resolves over as many.</summary>
        private const double EpisodeRiseHours = 24;

        public double WeightKg { get; private set; } = WeightKg;
        public double Systolic { get; init; }
        public double Diastolic { get; init; }
        public double HeartRate { get; init; }
        public double Glucose { get; init; }
        public int Messages { get; set; }

        /// <summary>0 = stable, 1 = severely deteriorated; rises during an episode and recovers after it.</summary>
        public double Deterioration { get; private set; }

        private readonly List<PendingEvent> _pending = [];
        private DateTimeOffset? _episodeStart;
        private DateTimeOffset _lastAdvance = DateTimeOffset.MinValue;

        /// <summary>The study drug raises the hazard, as treatment arms report more adverse events than placebo.</summary>
        private double ArmFactor => Arm switch { "TREATMENT" => 1.5, "PLACEBO" => 0.7, _ => 1.0 };

        /// <summary>The same patient with a new weight (a demographics update).</summary>
        public SimulatedPatient WeighAgain(double change)
        {
            WeightKg = Math.Round(Math.Clamp(WeightKg + change, 35, 250), 1);
            return this;
        }

        /// <summary>The earliest event whose onset is at or before <paramref name="at"/>, taken off the list; or null.</summary>
        public PendingEvent? TakeDueEvent(DateTimeOffset at)
        {
            var due = _pending.Where(e => e.Onset <= at).OrderBy(e => e.Onset).FirstOrDefault();
            if (due is not null)
            {
                _pending.Remove(due);
            }

            return due;
        }

        public void Advance(DateTimeOffset at, Random random, double eventRate)
        {
            if (_lastAdvance == DateTimeOffset.MinValue)
            {
                _lastAdvance = at;
            }

            var hours = Math.Max(0, (at - _lastAdvance).TotalHours);
            _lastAdvance = at > _lastAdvance ? at : _lastAdvance;
            var scale = eventRate * ArmFactor;
            if (random.NextDouble() < 1 - Math.Exp(-hours * scale * SuddenEventHazard))
            {
                _pending.Add(new PendingEvent(at.AddHours(-random.NextDouble() * hours), AfterDeterioration: false));
            }

            if (_episodeStart is null && random.NextDouble() < 1 - Math.Exp(-hours * scale * (EpisodeHazard + EpisodeHazardPerFrailty * Frailty)))
            {
                _episodeStart = at;

                // Most episodes end in an event 8-24 h in, as the deterioration nears its peak: the vitals and labs
                // move for hours first (docs/synthetic-trial.md). The rest resolve without one.
                if (random.NextDouble() < 0.5 + 0.3 * Frailty)
                {
                    _pending.Add(new PendingEvent(at.AddHours(8 + 16 * random.NextDouble()), AfterDeterioration: true));
                }
            }

            if (_episodeStart is { } start)
            {
                var t = (at - start).TotalHours;
                Deterioration = t < EpisodeRiseHours ? t / EpisodeRiseHours : Math.Max(0, 2 - t / EpisodeRiseHours);
                if (t > 2 * EpisodeRiseHours)
                {
                    _episodeStart = null;
                    Deterioration = 0;
                }
            }
        }
    }
}
