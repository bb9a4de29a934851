namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// One labelled example: a patient's feature vector at <see cref="Timestamp"/> (built only from data up to then) and
/// whether an adverse event was reported in the following 24 hours.
/// </summary>
/// <param name="PatientId">The pseudonymous patient; splits never put one patient in two sets.</param>
/// <param name="Timestamp">The evaluation time t (UTC).</param>
/// <param name="Features">Values in <see cref="ITrainingRows.FeatureNames"/> order; NaN = missing.</param>
/// <param name="Label">An adverse event with timestamp in (t, t + 24 h].</param>
public sealed record TrainingRow(string PatientId, DateTimeOffset Timestamp, float[] Features, bool Label);
