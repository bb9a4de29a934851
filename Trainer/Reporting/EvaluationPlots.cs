using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Reporting;

namespace ClinicalTrials.Trainer.Reporting;

/// <summary>
/// The charts of scored splits, written the same way after training (validation and test) and after <c>evaluate</c>
/// (the evaluated data): ROC, precision-recall, the reliability diagram and the confusion matrices of one split at the
/// serving thresholds.
/// </summary>
public static class EvaluationPlots
{
    /// <summary>The serving thresholds' names, in the order of <see cref="EvaluationMetrics.Confusion"/>.</summary>
    public static readonly IReadOnlyList<string> ServingThresholdNames = ["MEDIUM", "HIGH"];

    /// <param name="folder">Where the PNG files go (<see cref="ModelArtifacts"/> names them).</param>
    /// <param name="label">What the model predicts, for the titles.</param>
    /// <param name="scored">Probabilities and labels by split.</param>
    /// <param name="metrics">The metrics of the same splits.</param>
    /// <param name="confusionSplit">The split whose confusion matrices are drawn.</param>
    /// <param name="cancellationToken">Stops the writes.</param>
    public static async Task WriteAsync(string folder, LabelDefinition label, IReadOnlyDictionary<string, (float[] P, bool[] Y)> scored,
        IReadOnlyDictionary<string, EvaluationMetrics> metrics, string confusionSplit, CancellationToken cancellationToken)
    {
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelArtifacts.RocPlot), Plots.Roc(label, scored.ToDictionary(
            s => s.Key, s => (BinaryMetrics.RocCurve(s.Value.P, s.Value.Y), metrics[s.Key].Auroc))), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelArtifacts.CalibrationPlot), Plots.Calibration(label,
            metrics.ToDictionary(m => m.Key, m => m.Value.Calibration)), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelArtifacts.PrecisionRecallPlot), Plots.PrecisionRecall(label, scored.ToDictionary(
            s => s.Key, s => (BinaryMetrics.PrecisionRecallCurve(s.Value.P, s.Value.Y), metrics[s.Key].Auprc,
                metrics[s.Key].Rows == 0 ? 0 : (double)metrics[s.Key].Positives / metrics[s.Key].Rows))), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelArtifacts.ConfusionPlot),
            Plots.Confusion(confusionSplit, [.. ServingThresholdNames.Zip(metrics[confusionSplit].Confusion)]), cancellationToken);
    }
}
