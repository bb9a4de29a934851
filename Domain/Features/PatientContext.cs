using System.Text;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// The patient's latest demographics and latest envelope (study phase, site), each "latest by clinical time,
/// ties broken by the larger encoded tuple", so arrival order and repeats cannot change which one wins.
/// Text is encoded on arrival: sites and trial arms as stable FNV-1a hash buckets, never string.GetHashCode,
/// which differs between processes.
/// </summary>
internal sealed class PatientContext
{
    public const int SiteBuckets = 1024;
    public const int TrialArmBuckets = 64;

    private string? _siteId;
    private int _siteBucket;

    public Demographics? Patient { get; private set; }

    public Envelope? Study { get; private set; }

    public static int ApproximateSizeBytes => 128;

    /// <returns>False when the message changed nothing here.</returns>
    public bool Observe(int seconds, ClinicalMessage message)
    {
        var changed = false;
        // A patient's messages nearly always name the same site: hash it once, not per message.
        if (!string.Equals(_siteId, message.SiteId, StringComparison.Ordinal))
        {
            (_siteId, _siteBucket) = (message.SiteId, Bucket(message.SiteId, SiteBuckets));
        }

        var envelope = new Envelope(seconds, (int)message.StudyPhase, _siteBucket);
        if (Study is not { } study || envelope.Key.CompareTo(study.Key) > 0)
        {
            (Study, changed) = (envelope, true);
        }

        if (message.Payload is PatientDemographics d)
        {
            var demographics = new Demographics(
                seconds, d.Age, (int)d.Gender, Fixed(d.WeightKg), Fixed(d.HeightCm), ClinicalTime.DayNumber(d.EnrollmentDate),
                Bucket(d.TrialArm, TrialArmBuckets), d.TrialArm.Contains("placebo", StringComparison.OrdinalIgnoreCase));
            if (Patient is not { } patient || demographics.Key.CompareTo(patient.Key) > 0)
            {
                (Patient, changed) = (demographics, true);
            }
        }

        return changed;
    }

    /// <summary>FNV-1a (32 bit) of the trimmed, upper-cased UTF-8 text, modulo <paramref name="buckets"/>.</summary>
    public static int Bucket(string text, int buckets)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text.Trim().ToUpperInvariant()))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % (uint)buckets);
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Study is not null);
        if (Study is { } s)
        {
            writer.Write(s.Seconds);
            writer.Write(s.Phase);
            writer.Write(s.SiteBucket);
        }

        writer.Write(Patient is not null);
        if (Patient is { } p)
        {
            writer.Write(p.Seconds);
            writer.Write(p.Age);
            writer.Write(p.Gender);
            writer.Write(p.WeightX10);
            writer.Write(p.HeightX10);
            writer.Write(p.EnrollmentDay);
            writer.Write(p.TrialArmBucket);
            writer.Write(p.Placebo);
        }
    }

    public void Read(BinaryReader reader)
    {
        Study = reader.ReadBoolean() ? new Envelope(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32()) : null;
        Patient = reader.ReadBoolean()
            ? new Demographics(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(),
                reader.ReadInt32(), reader.ReadInt32(), reader.ReadBoolean())
            : null;
    }

    // 0 stands for "not measured": a weight or height x10 is at least 10 (DemographicRanges).
    private static int Fixed(double? value) => value is { } v ? (int)Math.Round(v * 10, MidpointRounding.AwayFromZero) : 0;

    public readonly record struct Envelope(int Seconds, int Phase, int SiteBucket)
    {
        public (int, int, int) Key => (Seconds, Phase, SiteBucket);
    }

    /// <summary>Weight and height are held x10 (kg, cm); the enrollment date as days since 2000-01-01.</summary>
    public readonly record struct Demographics(
        int Seconds, int Age, int Gender, int WeightX10, int HeightX10, int EnrollmentDay, int TrialArmBucket, bool Placebo)
    {
        public (int, int, int, int, int, int, int, int) Key =>
            (Seconds, Age, Gender, WeightX10, HeightX10, EnrollmentDay, TrialArmBucket, Placebo ? 1 : 0);
    }
}
