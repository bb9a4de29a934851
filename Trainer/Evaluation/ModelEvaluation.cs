using System.Globalization;
using ClinicalTrials.Lake;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Reporting;

namespace ClinicalTrials.Trainer.Evaluation;

/// <summary>What an evaluation produced.</summary>
/// <param name="Folder">Where the report, metrics and plots are.</param>
/// <param name="Model">The evaluated model's metadata.</param>
/// <param name="Metrics">The metrics over every scored hour.</param>
/// <param name="AurocInterval">DeLong 95 % interval; null when the hours hold one class only.</param>
/// <param name="Alerting">The challenge's utility, alert burden and lead time at the serving thresholds and at the model's own utility threshold.</param>
/// <param name="Patients">Patients scored.</param>
/// <param name="Warnings">What the reader must know, e.g. that the data overlaps the model's training data.</param>
public sealed record EvaluationResult(string Folder, ModelMetadata Model, EvaluationMetrics Metrics, AurocInterval? AurocInterval, IReadOnlyList<AlertingAt> Alerting,
    int Patients, IReadOnlyList<string> Warnings);

/// <summary>
/// External validation: scores a registered model on the offline features of a date range (of any data directory or
/// bucket), with the label definition the model was trained on (outcome, horizon, censoring from its metadata), through
/// the platform's own ONNX scoring (<see cref="OnnxModel"/>), and writes the metrics and plots training writes.
/// </summary>
public sealed class ModelEvaluation(ILakeStorage registry, ILakeStorage data, RiskThresholds thresholds, IProgress<TrainingProgress>? progress = null)
{
    public const string Split = "evaluation";
    public const string MetricsFile = "metrics.json";
    private const int Batch = 4096;

    /// <param name="version">The registered model version (<c>models/{version}/</c> of the registry storage).</param>
    /// <param name="from">First day of the data scored.</param>
    /// <param name="to">Last day of the data scored.</param>
    /// <param name="folder">Where the report, metrics and plots go (created).</param>
    /// <param name="exportScores">A .csv or .parquet file for the hourly scores; null for none.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <exception cref="TrainingException">The model or the data cannot be evaluated; the message says why.</exception>
    public async Task<EvaluationResult> RunAsync(string version, DateOnly from, DateOnly to, string folder, string? exportScores, CancellationToken cancellationToken)
    {
        if (to < from)
        {
            throw new TrainingException($"The date range is empty: --from {from:yyyy-MM-dd} is after --to {to:yyyy-MM-dd}.");
        }

        if (exportScores is not null && ScoreExport.FormatOf(exportScores) is null)
        {
            throw new TrainingException($"--export-scores must name a .csv or .parquet file, not '{exportScores}'.");
        }

        if (!ModelArtifacts.IsValidVersion(version))
        {
            throw new TrainingException($"--model '{version}' is not a model version (letters, digits, '.', '-', '_'; at most 64).");
        }

        Report("Loading model", version);
        var metadataBytes = await registry.GetBytesAsync($"{LakeLayout.Models}{version}/{ModelArtifacts.Metadata}", cancellationToken)
            ?? throw new TrainingException($"No model {version} in {registry.Description}: train one or name a registered version.");
        var onnx = await registry.GetBytesAsync($"{LakeLayout.Models}{version}/{ModelArtifacts.Onnx}", cancellationToken)
            ?? throw new TrainingException($"Model {version} has no {ModelArtifacts.Onnx} in {registry.Description}.");
        var metadata = ModelJson.ReadMetadata(metadataBytes);
        var label = metadata.LabelOrLegacy;
        var rows = await LakeTrainingRows.OpenAsync(data, from, to, label, cancellationToken);
        OnnxModel model;
        try
        {
            // The data's features, not the running catalogue's: the data may be of an older version than this build computes.
            OnnxModel.CheckFeatures(metadata, rows.FeatureVersion, rows.FeatureNames);
            model = OnnxModel.LoadWithoutFeatureCheck(metadata, onnx);
        }
        catch (ModelRefusedException e)
        {
            throw new TrainingException(e.Message);
        }

        using (model)
        {
            var scored = new List<TrainingRow>();
            var probabilities = new List<float>();
            var batch = new List<TrainingRow>(Batch);
            Report("Scoring", rows.Source);
            await foreach (var row in rows.ReadAsync(from, to, cancellationToken))
            {
                batch.Add(row);
                if (batch.Count == Batch)
                {
                    Score(model, batch, scored, probabilities);
                }
            }

            Score(model, batch, scored, probabilities);
            if (scored.Count == 0)
            {
                throw new TrainingException($"No rows from {from:yyyy-MM-dd} to {to:yyyy-MM-dd} in {rows.Source}: run the lake jobs (offline features) first, or widen --from/--to.");
            }

            Report("Evaluating", $"{scored.Count:N0} hours");
            var p = probabilities.ToArray();
            var y = scored.Select(r => r.Label).ToArray();
            var metrics = BinaryMetrics.Evaluate(p, y, [thresholds.Medium, thresholds.High]);
            var interval = y.Contains(true) && y.Contains(false) ? BinaryMetrics.AurocWithInterval(p, y) : null;
            var bestUtility = metadata.Parameters.TryGetValue(TrainingJob.UtilityThresholdParameter, out var text)
                && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold) ? threshold : (double?)null;
            var alerting = AlertingAt.AtThresholds(thresholds, bestUtility, scored, p);
            var warnings = Warnings(metadata, rows.Source, from, to);
            var patients = scored.Select(r => r.PatientId).Distinct(StringComparer.Ordinal).Count();

            Directory.CreateDirectory(folder);
            await EvaluationPlots.WriteAsync(folder, label, new Dictionary<string, (float[] P, bool[] Y)> { [Split] = (p, y) },
                new Dictionary<string, EvaluationMetrics> { [Split] = metrics }, Split, cancellationToken);
            await File.WriteAllBytesAsync(Path.Combine(folder, MetricsFile), ModelJson.Write(new { model = version, label, from, to, patients, metrics, auroc_interval = interval, alerting }), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, ModelArtifacts.Report),
                ReportWriter.EvaluationMarkdown(metadata, rows.Source, from, to, patients, Split, metrics, interval, alerting, warnings), cancellationToken);
            if (exportScores is not null)
            {
                Report("Exporting scores", exportScores);
                ScoreExport.Write(exportScores, scored, p);
            }

            return new EvaluationResult(folder, metadata, metrics, interval, alerting, patients, warnings);
        }
    }

    private static void Score(OnnxModel model, List<TrainingRow> batch, List<TrainingRow> scored, List<float> probabilities)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var width = model.Metadata.FeatureNames.Count;
        var flat = new float[batch.Count * width];
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Features.CopyTo(flat, i * width);
        }

        probabilities.AddRange(model.Score(flat, batch.Count));
        scored.AddRange(batch);
        batch.Clear();
    }

    /// <summary>
    /// The overlap with the model's own training data: the same source and days mean the training and validation patients'
    /// hours are among the scored ones, so the figures are not external validation.
    /// </summary>
    private static List<string> Warnings(ModelMetadata metadata, string source, DateOnly from, DateOnly to)
    {
        var trained = metadata.TrainingData;
        return trained.Source == source && from <= trained.To && to >= trained.From
            ? [string.Create(CultureInfo.InvariantCulture,
                $"days {Max(from, trained.From):yyyy-MM-dd} to {Min(to, trained.To):yyyy-MM-dd} of this source are the model's training data: its training and validation patients are among the hours scored, so these figures are not external validation")]
            : [];
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

    private void Report(string step, string? detail) => progress?.Report(new TrainingProgress(step, null, detail));
}
