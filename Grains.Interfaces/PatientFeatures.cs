using System.Collections.Immutable;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// A patient's current feature vector as the grain maintains it, event by event.
/// <see cref="Values"/> are in <c>FeatureCatalogue.Names</c> order of <see cref="FeatureVersion"/>; NaN marks a missing value.
/// </summary>
/// <param name="PatientId">The pseudonymous patient.</param>
/// <param name="AsOf">The evaluation time t: the latest clinical timestamp (whole seconds) of the patient's stored messages.</param>
/// <param name="FeatureVersion">The feature catalogue version the values were computed with.</param>
/// <param name="Values">One value per feature, in catalogue order.</param>
[GenerateSerializer, Immutable, Alias("patient-features")]
public sealed record PatientFeatures(
    [property: Id(0)] string PatientId,
    [property: Id(1)] DateTimeOffset AsOf,
    [property: Id(2)] string FeatureVersion,
    [property: Id(3)] ImmutableArray<double> Values);
