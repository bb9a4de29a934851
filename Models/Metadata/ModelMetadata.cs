namespace ClinicalTrials.Models.Metadata;

/// <summary>
/// Everything known about one trained model, written beside its ONNX file as <c>metadata.json</c>: which features it
/// reads and in what order, the data it was trained on, how well it did, how it was trained and from which code.
/// Serving reads <see cref="FeatureNames"/> and <see cref="FeatureVersion"/> to refuse a model whose inputs do not
/// match the features the platform computes.
/// </summary>
/// <param name="Version">The model version, unique in the registry (also its folder name under <c>models/</c>).</param>
/// <param name="ModelName">What the model predicts, e.g. <c>adverse-event-24h</c>.</param>
/// <param name="CreatedAt">When training finished (UTC).</param>
/// <param name="FeatureVersion">The feature catalogue version of the training data.</param>
/// <param name="FeatureNames">The ONNX input's columns, in order.</param>
/// <param name="OnnxInput">The ONNX input tensor name (float, [N, features]).</param>
/// <param name="OnnxOutput">The ONNX output tensor holding the calibrated probability of the positive class.</param>
/// <param name="TrainingData">What the model learnt from.</param>
/// <param name="Metrics">Evaluation by split name (<c>validation</c>, <c>test</c>).</param>
/// <param name="Parameters">The trainer's parameters, as text.</param>
/// <param name="CodeCommit">The git commit of the trainer's code, when known.</param>
/// <param name="RunId">The experiment run that produced the model.</param>
public sealed record ModelMetadata(
    string Version,
    string ModelName,
    DateTimeOffset CreatedAt,
    string FeatureVersion,
    IReadOnlyList<string> FeatureNames,
    string OnnxInput,
    string OnnxOutput,
    TrainingDataSummary TrainingData,
    IReadOnlyDictionary<string, EvaluationMetrics> Metrics,
    IReadOnlyDictionary<string, string> Parameters,
    string? CodeCommit,
    string RunId);

/// <summary>The training data behind a model.</summary>
/// <param name="Source">Where the rows came from (e.g. the offline feature store).</param>
/// <param name="From">First day of the range (UTC, inclusive).</param>
/// <param name="To">Last day of the range (UTC, inclusive).</param>
/// <param name="Rows">Rows read.</param>
/// <param name="Patients">Distinct patients.</param>
/// <param name="Positives">Rows labelled positive.</param>
/// <param name="ContentHash">SHA-256 over every row (patient, time, values, label) in read order: the same data gives the same hash.</param>
/// <param name="SplitPatients">Patients per split (train, validation, test).</param>
/// <param name="SplitRows">Rows per split.</param>
public sealed record TrainingDataSummary(
    string Source,
    DateOnly From,
    DateOnly To,
    long Rows,
    int Patients,
    long Positives,
    string ContentHash,
    IReadOnlyDictionary<string, int> SplitPatients,
    IReadOnlyDictionary<string, long> SplitRows);

/// <summary>How a model scored on one held-out split.</summary>
/// <param name="Rows">Rows scored.</param>
/// <param name="Positives">Positive rows among them.</param>
/// <param name="Auroc">Area under the ROC curve (ties count half); NaN when the split has one class only.</param>
/// <param name="Auprc">Average precision (area under the precision-recall curve, step-wise); NaN without positives.</param>
/// <param name="Brier">Mean squared difference between probability and outcome.</param>
/// <param name="Calibration">Ten equal-width probability bins: mean predicted against observed rate.</param>
/// <param name="Confusion">Confusion matrix at each serving threshold (the MEDIUM and HIGH risk cut-offs).</param>
public sealed record EvaluationMetrics(
    long Rows,
    long Positives,
    double Auroc,
    double Auprc,
    double Brier,
    IReadOnlyList<CalibrationBin> Calibration,
    IReadOnlyList<ConfusionMatrix> Confusion);

/// <summary>One bin of a reliability curve.</summary>
public sealed record CalibrationBin(double Lower, double Upper, long Count, double MeanPredicted, double ObservedRate);

/// <summary>Counts when a probability at or above <see cref="Threshold"/> is called positive.</summary>
public sealed record ConfusionMatrix(double Threshold, long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);

    public double Recall => TruePositives + FalseNegatives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalseNegatives);
}
