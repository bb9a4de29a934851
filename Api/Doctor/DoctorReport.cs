using ClinicalTrials.Lake.Jobs;

namespace ClinicalTrials.Api.Doctor;

public enum CheckStatus
{
    Pass,
    Warn,
    Fail,
}

/// <summary>One step of the walk: its level (infrastructure … observability), what was found and, unless it passed, what to do.</summary>
public sealed record DoctorCheck(string Level, string Name, CheckStatus Status, string Figure, string? Hint = null);

/// <summary>The walk's result: the worst status, each check in pipeline order, and each layer's files and rows.</summary>
public sealed record DoctorReport(string Profile, CheckStatus Status, DateTimeOffset CheckedAt, IReadOnlyList<DoctorCheck> Checks, IReadOnlyList<LayerStatus> Layers);
