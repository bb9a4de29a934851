namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// One labelled example: a patient's feature vector at <see cref="Timestamp"/> (built only from data up to then) and
/// whether an adverse event had its onset in the following 24 hours.
/// </summary>
/// <param name="PatientId">The pseudonymous patient; splits never put one patient in two sets.</param>
/// <param name="Timestamp">The evaluation time t (UTC).</param>
/// <param name="Features">Values in <see cref="ITrainingRows.FeatureNames"/> order; NaN = missing.</param>
/// <param name="Label">An adverse event with onset in (t, t + 24 h] (<c>adverse_event_24h</c>).</param>
public sealed record TrainingRow(string PatientId, DateTimeOffset Timestamp, float[] Features, bool Label);
