using System.Collections.Immutable;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// Scores patients with the production model. A stateless worker: every silo runs as many activations as it has
/// cores, each calling the silo's in-memory ONNX Runtime session, so scoring scales with cores and silos and never
/// leaves the silo that received the request. Use key 0.
/// </summary>
[Alias("scoring")]
public interface IScoringGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The probability of an adverse event within 24 h for each patient, from the patient's current features, in the
    /// order given. <see cref="ScoringOutcome.ModelVersion"/> is null when no production model is loaded.
    /// </summary>
    [Alias("score")]
    Task<ScoringOutcome> ScoreAsync(ImmutableArray<string> patientIds);
}

/// <summary>The scores of one call, all from the same model version.</summary>
/// <param name="ModelVersion">The production model used; null when there is none (nothing was scored).</param>
/// <param name="Scores">One per patient asked about, in order.</param>
[GenerateSerializer, Immutable, Alias("scoring-outcome")]
public sealed record ScoringOutcome(
    [property: Id(0)] string? ModelVersion,
    [property: Id(1)] ImmutableArray<PatientScore> Scores);

/// <summary>One patient's score.</summary>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="Found">False when nothing was ever stored for the patient (then nothing else is set).</param>
/// <param name="Probability">The model's probability.</param>
/// <param name="FeaturesAsOf">The clinical time of the feature vector scored.</param>
/// <param name="FeatureVersion">Its feature version.</param>
/// <param name="Features">The vector scored, in the model's feature order (NaN = missing), for the prediction log.</param>
[GenerateSerializer, Immutable, Alias("patient-score")]
public sealed record PatientScore(
    [property: Id(0)] string PatientId,
    [property: Id(1)] bool Found,
    [property: Id(2)] double Probability,
    [property: Id(3)] DateTimeOffset? FeaturesAsOf,
    [property: Id(4)] string? FeatureVersion,
    [property: Id(5)] ImmutableArray<double> Features);
