using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// Trains a challenger with the platform's trainer. The grains call this interface and the silo host supplies the
/// implementation (<c>Silo/Hosting/InProcessChallengerTrainer</c>, which runs the Trainer project's <c>TrainingJob</c> in
/// process): the silo is the one project that may reference both the grains and the trainer, so the grains stay free of
/// ML.NET and the trainer stays one code path for the command line and for retraining, without shelling out.
/// </summary>
public interface IChallengerTrainer
{
    /// <summary>
    /// Trains on the latest offline features under <paramref name="label"/>, records the run in the tracking database,
    /// and stores the model under <c>models/{version}/</c> of the lake storage, where the registry adopts it as staging.
    /// </summary>
    /// <exception cref="ChallengerTrainingException">No model could be trained (no rows, one class only); the message says why.</exception>
    Task<TrainedChallenger> TrainAsync(LabelDefinition label, CancellationToken cancellationToken);

    /// <summary>
    /// The rows of <paramref name="challenger"/>'s training range for <paramref name="heldOutPatients"/> (its test split,
    /// from <see cref="HeldOutPatientsAsync"/>), each row's features in the challenger's feature order with its label: rows
    /// neither model trained on when both used the same seed.
    /// </summary>
    IAsyncEnumerable<HeldOutRow> HeldOutAsync(ModelMetadata challenger, IReadOnlySet<string> heldOutPatients, CancellationToken cancellationToken);

    /// <summary>
    /// The patients of <paramref name="challenger"/>'s held-out test split: the challenger never trained on them, so its
    /// scores of their logged predictions are out of sample.
    /// </summary>
    Task<IReadOnlySet<string>> HeldOutPatientsAsync(ModelMetadata challenger, CancellationToken cancellationToken);
}

/// <summary>A trained challenger: its version and the SHA-256 of its model.onnx.</summary>
public sealed record TrainedChallenger(string Version, string OnnxSha256);

/// <summary>A labelled row of a held-out split, its features in the model's feature order.</summary>
public sealed record HeldOutRow(float[] Features, bool Label);

/// <summary>Training produced no model; the message says why in terms an operator can act on.</summary>
public sealed class ChallengerTrainingException(string message, Exception? inner = null) : Exception(message, inner);
