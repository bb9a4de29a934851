using ClinicalTrials.Models.Monitoring;

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
/// <param name="Reference">
/// The training data's distributions, for drift monitoring; null in metadata written before the trainer kept them.
/// </param>
/// <param name="Label">
/// What the model predicts: the outcome, its horizon and censoring; null in metadata written before the trainer recorded it
/// (those models were trained on any adverse event within 24 hours, uncensored: <see cref="LabelDefinition.Legacy"/>).
/// </param>
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
    string RunId,
    TrainingReference? Reference = null,
    LabelDefinition? Label = null)
{
    /// <summary>The label the model was trained on; <see cref="LabelDefinition.Legacy"/> for metadata that does not say.</summary>
    public LabelDefinition LabelOrLegacy => Label ?? LabelDefinition.Legacy;

    /// <summary>
    /// Null when the metadata can describe a servable model; otherwise the first broken rule, naming its field. Covers what
    /// the JSON reader cannot: values inside lists and dictionaries, and the shape of names.
    /// </summary>
    public string? Problem()
    {
        if (!ModelArtifacts.IsValidVersion(Version))
        {
            return "'version' must be 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit.";
        }

        var blank = new[] { ("model_name", ModelName), ("feature_version", FeatureVersion), ("onnx_input", OnnxInput), ("onnx_output", OnnxOutput), ("run_id", RunId) }
            .FirstOrDefault(f => string.IsNullOrWhiteSpace(f.Item2)).Item1;
        if (blank is not null)
        {
            return $"'{blank}' must not be empty.";
        }

        if (FeatureNames.Count == 0 || FeatureNames.Any(string.IsNullOrWhiteSpace))
        {
            return "'feature_names' must list at least one feature, none of them empty.";
        }

        if (FeatureNames.Distinct(StringComparer.Ordinal).Count() != FeatureNames.Count)
        {
            return "'feature_names' must not name a feature twice.";
        }

        if (Metrics.Any(m => m.Value is null) || Parameters.Any(p => p.Value is null))
        {
            return "'metrics' and 'parameters' must not hold null values.";
        }

        return Label?.Problem() ?? Reference?.Problem(FeatureNames);
    }
}

/// <summary>
/// The outcome a model predicts. An hour t is positive when a matching adverse event has onset in (t, t + horizon];
/// with censoring, hours at or after the patient's first matching onset are left out of training and evaluation (an
/// early-warning model is of no use once the event has happened, and those hours would teach it to recognise "after").
/// <see cref="OutcomeTimeline"/> applies it.
/// </summary>
/// <param name="Outcome"><c>any</c> (any adverse event), <c>serious</c> (flagged serious or of severity SEVERE) or one event term, e.g. <c>SEPSIS</c>.</param>
/// <param name="HorizonHours">How far ahead the model looks, 1 to 48 hours.</param>
/// <param name="CensorAfterFirstEvent">Whether hours at or after the first matching onset are excluded.</param>
public sealed record LabelDefinition(string Outcome, int HorizonHours, bool CensorAfterFirstEvent)
{
    public const int MaxHorizonHours = 48;
    public const string AnyOutcome = "any";
    public const string SeriousOutcome = "serious";

    /// <summary>What models trained before labels were recorded predicted.</summary>
    public static LabelDefinition Legacy { get; } = new(AnyOutcome, 24, false);

    /// <summary>What a training run predicts unless told otherwise: any adverse event within 24 h, censored.</summary>
    public static LabelDefinition Default { get; } = new(AnyOutcome, 24, true);

    /// <summary>Null when well formed; otherwise the broken rule, naming its field.</summary>
    public string? Problem() =>
        string.IsNullOrWhiteSpace(Outcome) ? "'label.outcome' must be 'any', 'serious' or an adverse event term."
        : HorizonHours is < 1 or > MaxHorizonHours ? $"'label.horizon_hours' must be 1 to {MaxHorizonHours}."
        : null;

    /// <summary>Whether <paramref name="adverseEvent"/> is an event of this outcome (terms compare case-insensitively).</summary>
    public bool Matches(Domain.Messages.AdverseEvent adverseEvent) => Outcome.Trim().ToUpperInvariant() switch
    {
        "ANY" => true,
        "SERIOUS" => adverseEvent.Serious || adverseEvent.Severity >= Domain.Messages.Severity.Severe,
        var term => string.Equals(adverseEvent.EventTerm.Trim(), term, StringComparison.OrdinalIgnoreCase),
    };

    /// <summary>The model's name: outcome and horizon, e.g. <c>adverse-event-24h</c>, <c>serious-adverse-event-24h</c>, <c>sepsis-6h</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string ModelName => Outcome.Trim().ToUpperInvariant() switch
    {
        "ANY" => $"adverse-event-{HorizonHours}h",
        "SERIOUS" => $"serious-adverse-event-{HorizonHours}h",
        var term => $"{new string([.. term.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')])}-{HorizonHours}h",
    };

    /// <summary>In words, for plots and reports, e.g. "SEPSIS within 6 h (censored after the first)".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Description =>
        $"{(Outcome.Trim().ToUpperInvariant() switch { "ANY" => "adverse event", "SERIOUS" => "serious adverse event", _ => Outcome.Trim() })} within {HorizonHours} h"
        + (CensorAfterFirstEvent ? " (hours after the first censored)" : "");
}

/// <summary>What the model's inputs and output looked like in training, for drift monitoring to compare against.</summary>
/// <param name="Features">One reference per feature, in the order of <see cref="ModelMetadata.FeatureNames"/>, over all rows read.</param>
/// <param name="Score">The model's probabilities on the held-out rows (validation and test), where they are not fitted to.</param>
public sealed record TrainingReference(IReadOnlyList<ReferenceDistribution> Features, ReferenceDistribution Score)
{
    /// <summary>Null when the references match the features and are well formed; otherwise the broken rule.</summary>
    public string? Problem(IReadOnlyList<string> featureNames)
    {
        if (Features.Count != featureNames.Count || Features.Where((f, i) => f?.Name != featureNames[i]).Any())
        {
            return "'reference.features' must hold one reference per feature, named and ordered as 'feature_names'.";
        }

        return Features.Append(Score).Select(r => r?.Problem() is { } problem ? $"'reference': {problem}" : null).FirstOrDefault(p => p is not null);
    }
}

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
