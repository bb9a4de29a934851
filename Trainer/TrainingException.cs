namespace ClinicalTrials.Trainer;

/// <summary>Training cannot go on for a reason the operator can fix (no data, one class only); the message says which.</summary>
public sealed class TrainingException(string message) : Exception(message);
