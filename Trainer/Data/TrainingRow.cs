namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// One labelled example: a patient's feature vector at <see cref="Timestamp"/> (built only from data up to then) and
/// whether an event of the run's outcome had its onset in the following hours (<see cref="ITrainingRows.Label"/>).
/// </summary>
/// <param name="PatientId">The pseudonymous patient; splits never put one patient in two sets.</param>
/// <param name="Timestamp">The evaluation time t (UTC).</param>
/// <param name="Features">Values in <see cref="ITrainingRows.FeatureNames"/> order; NaN = missing.</param>
/// <param name="Label">A matching onset in (t, t + horizon] (<see cref="Models.Metadata.OutcomeTimeline"/>).</param>
/// <param name="Onset">The patient's first matching onset, whenever it is (null for none): the challenge's utility measures alerts from it.</param>
public sealed record TrainingRow(string PatientId, DateTimeOffset Timestamp, float[] Features, bool Label, DateTimeOffset? Onset = null);
