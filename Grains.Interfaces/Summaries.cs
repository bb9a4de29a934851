using System.Collections.Immutable;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>A patient's current state as the API shows it. Values are in standard units.</summary>
[GenerateSerializer, Immutable, Alias("patient-summary")]
public sealed record PatientSummary(
    [property: Id(0)] string PatientId,
    [property: Id(1)] string? SiteId,
    [property: Id(2)] string? StudyPhase,
    [property: Id(3)] PatientProfile? Demographics,
    [property: Id(4)] DateTimeOffset FirstEventAt,
    [property: Id(5)] DateTimeOffset LastEventAt,
    [property: Id(6)] ImmutableDictionary<string, int> MessageCounts,
    [property: Id(7)] ImmutableDictionary<string, Measurement> LatestVitals,
    [property: Id(8)] ImmutableDictionary<string, Measurement> LatestLabs,
    [property: Id(9)] int AdverseEventCount,
    [property: Id(10)] int SeriousAdverseEventCount,
    [property: Id(11)] DateTimeOffset? LastAdverseEventAt,
    [property: Id(12)] int AbnormalValueCount);

[GenerateSerializer, Immutable, Alias("patient-profile")]
public sealed record PatientProfile(
    [property: Id(0)] int Age,
    [property: Id(1)] string Gender,
    [property: Id(2)] double? WeightKg,
    [property: Id(3)] double? HeightCm,
    [property: Id(4)] DateOnly EnrollmentDate,
    [property: Id(5)] string TrialArm);

/// <summary>One value with its unit and clinical time.</summary>
[GenerateSerializer, Immutable, Alias("measurement")]
public sealed record Measurement(
    [property: Id(0)] double Value,
    [property: Id(1)] string Unit,
    [property: Id(2)] DateTimeOffset At);
