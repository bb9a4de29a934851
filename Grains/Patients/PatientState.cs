using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Grains.Interfaces;

namespace ClinicalTrials.Grains.Patients;

/// <summary>
/// A patient's state: a snapshot of everything applied up to ledger sequence <see cref="AppliedThrough"/>.
/// Snapshots are written lazily; on activation the journal replays what came after, so a lost snapshot loses nothing.
/// </summary>
[GenerateSerializer, Alias("patient-state")]
public sealed class PatientState
{
    [Id(0)] public long AppliedThrough { get; set; }
    [Id(1)] public string? SiteId { get; set; }
    [Id(2)] public string? StudyPhase { get; set; }
    [Id(3)] public PatientProfile? Demographics { get; set; }
    [Id(4)] public DateTimeOffset? FirstEventAt { get; set; }
    [Id(5)] public DateTimeOffset? LastEventAt { get; set; }
    [Id(6)] public Dictionary<string, int> MessageCounts { get; set; } = [];
    [Id(7)] public Dictionary<string, Measurement> LatestVitals { get; set; } = [];
    [Id(8)] public Dictionary<string, Measurement> LatestLabs { get; set; } = [];
    [Id(9)] public int AdverseEventCount { get; set; }
    [Id(10)] public int SeriousAdverseEventCount { get; set; }
    [Id(11)] public DateTimeOffset? LastAdverseEventAt { get; set; }
    [Id(12)] public int AbnormalValueCount { get; set; }

    /// <summary>
    /// The patient's <see cref="Domain.Features.PatientFeatureState"/> as of <see cref="AppliedThrough"/>, in its own versioned
    /// format (<c>Serialize()</c>); null in snapshots written before features were kept.
    /// </summary>
    [Id(13)] public byte[]? Features { get; set; }

    /// <summary>Applies one stored message. Latest values follow clinical time, so a late message never hides a newer one.</summary>
    public void Apply(ClinicalMessage message, long sequence)
    {
        AppliedThrough = Math.Max(AppliedThrough, sequence);
        SiteId = message.SiteId;
        StudyPhase = WireNames.StudyPhase.Of(message.StudyPhase);
        FirstEventAt = FirstEventAt is { } first && first <= message.Timestamp ? first : message.Timestamp;
        LastEventAt = LastEventAt is { } last && last >= message.Timestamp ? last : message.Timestamp;
        var type = message.PayloadType.WireName();
        MessageCounts[type] = MessageCounts.GetValueOrDefault(type) + 1;
        AbnormalValueCount += message.Flags.Count;

        switch (message.Payload)
        {
            case PatientDemographics d:
                Demographics = new PatientProfile(d.Age, WireNames.Gender.Of(d.Gender), d.WeightKg, d.HeightCm, d.EnrollmentDate, d.TrialArm);
                break;
            case VitalSigns v:
                Latest(LatestVitals, "systolic_bp", v.SystolicBp, "mmHg", message.Timestamp);
                Latest(LatestVitals, "diastolic_bp", v.DiastolicBp, "mmHg", message.Timestamp);
                Latest(LatestVitals, "heart_rate", v.HeartRate, "bpm", message.Timestamp);
                Latest(LatestVitals, "temperature_celsius", v.TemperatureCelsius, "°C", message.Timestamp);
                Latest(LatestVitals, "oxygen_saturation", v.OxygenSaturation, "%", message.Timestamp);
                Latest(LatestVitals, "respiratory_rate", v.RespiratoryRate, "breaths/min", message.Timestamp);
                break;
            case LabResults labs:
                // Only values in a standard unit: a urine test is kept apart from the blood test of the same code.
                foreach (var result in labs.Results.Where(r => r.IsStandardised))
                {
                    Latest(LatestLabs, result.Specimen is null ? result.TestCode : $"{result.TestCode} ({result.Specimen})", result.Value, result.Unit!,
                        message.Timestamp);
                }

                break;
            case AdverseEvent ae:
                AdverseEventCount++;
                SeriousAdverseEventCount += ae.Serious ? 1 : 0;
                LastAdverseEventAt = LastAdverseEventAt is { } lastAe && lastAe >= ae.Onset ? lastAe : ae.Onset;
                break;
        }
    }

    private static void Latest(Dictionary<string, Measurement> latest, string name, double? value, string unit, DateTimeOffset at)
    {
        if (value is { } v && (!latest.TryGetValue(name, out var current) || current.At <= at))
        {
            latest[name] = new Measurement(v, unit, at);
        }
    }
}
