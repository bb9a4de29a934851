using System.Globalization;
using ClinicalTrials.Models.Monitoring;
using Microsoft.ML;

namespace ClinicalTrials.Trainer.Training;

/// <summary>A calibrator ML.NET can fit to a booster's margins.</summary>
public enum CalibrationMethod
{
    Platt,
    Isotonic,
}

/// <summary>One candidate calibration measured on the validation rows.</summary>
/// <param name="Name"><c>platt-train</c>, <c>platt-validation</c> or <c>isotonic-validation</c>.</param>
/// <param name="Brier">Brier score on the validation rows (out of fold for the ones fitted to validation).</param>
/// <param name="Ece">Expected calibration error (10 bins) on the same probabilities.</param>
/// <param name="Exportable">Whether ML.NET writes it into the ONNX graph, so serving scores what was measured.</param>
public sealed record CalibrationCandidate(string Name, double Brier, double Ece, bool Exportable);

/// <summary>
/// Which calibration a model gets, chosen on the validation patients by Brier score (a proper scoring rule: it rewards
/// both ranking and calibration, where ECE alone can be gamed by a constant). The candidates: the Platt sigmoid the
/// booster fitted on its own training rows, where boosted trees are over-confident; and Platt and isotonic regression
/// fitted to the validation margins, measured out of fold (two folds by patient, each fitted on one and scored on the
/// other) so that a flexible calibrator cannot win by memorising the rows it is judged on. ML.NET 5's ONNX converter
/// has no isotonic (PAV) calibrator, so isotonic is measured and reported but never chosen: the exported graph must
/// score what the report measured.
/// </summary>
public sealed record CalibrationChoice(string Chosen, IReadOnlyList<CalibrationCandidate> Candidates, string Reason)
{
    public const string PlattTrain = "platt-train";
    public const string PlattValidation = "platt-validation";
    public const string IsotonicValidation = "isotonic-validation";

    /// <summary>
    /// Measures the candidates on the validation rows: <paramref name="margins"/> (raw booster scores),
    /// <paramref name="trainPlatt"/> (the booster's own probabilities), <paramref name="labels"/> and the patients' fold
    /// (0 or 1) in <paramref name="folds"/>.
    /// </summary>
    public static CalibrationChoice Choose(IReadOnlyList<float> margins, IReadOnlyList<float> trainPlatt, IReadOnlyList<bool> labels, IReadOnlyList<int> folds, int seed)
    {
        List<CalibrationCandidate> candidates = labels.Count > 0 ? [Measure(PlattTrain, trainPlatt, labels, exportable: true)] : [];
        var foldsHoldBothClasses = Enumerable.Range(0, 2).All(f => Enumerable.Range(0, labels.Count).Where(i => folds[i] == f).Select(i => labels[i]).Distinct().Count() == 2);
        if (!foldsHoldBothClasses)
        {
            return new CalibrationChoice(PlattTrain, candidates,
                "kept the Platt sigmoid fitted on the training rows: the validation patients' two folds do not both hold positive and negative hours, so no calibrator can be fitted and judged on them");
        }

        var ml = new MLContext(seed);
        candidates.Add(Measure(PlattValidation, OutOfFold(ml, CalibrationMethod.Platt, margins, labels, folds), labels, exportable: true));
        candidates.Add(Measure(IsotonicValidation, OutOfFold(ml, CalibrationMethod.Isotonic, margins, labels, folds), labels, exportable: false));
        var chosen = candidates.Where(c => c.Exportable).MinBy(c => c.Brier)!;
        var isotonic = candidates.Single(c => c.Name == IsotonicValidation);
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"{chosen.Name} has the lowest validation Brier score ({chosen.Brier:0.00000}, ECE {chosen.Ece:0.0000}) of the calibrations the ONNX export can carry; ")
            + (isotonic.Brier < chosen.Brier
                ? string.Create(CultureInfo.InvariantCulture, $"isotonic would score {isotonic.Brier:0.00000} (ECE {isotonic.Ece:0.0000}), {chosen.Brier - isotonic.Brier:0.00000} lower, but ML.NET cannot export it to ONNX")
                : string.Create(CultureInfo.InvariantCulture, $"isotonic scores no better ({isotonic.Brier:0.00000}, ECE {isotonic.Ece:0.0000}) and ML.NET cannot export it to ONNX"));
        return new CalibrationChoice(chosen.Name, candidates, reason);
    }

    private static CalibrationCandidate Measure(string name, IReadOnlyList<float> probabilities, IReadOnlyList<bool> labels, bool exportable) =>
        new(name, BinaryMetrics.Brier(probabilities, labels), BinaryMetrics.ExpectedCalibrationError(BinaryMetrics.Calibration(probabilities, labels, 10)), exportable);

    private static float[] OutOfFold(MLContext ml, CalibrationMethod method, IReadOnlyList<float> margins, IReadOnlyList<bool> labels, IReadOnlyList<int> folds)
    {
        var probabilities = new float[margins.Count];
        for (var fold = 0; fold < 2; fold++)
        {
            var fit = Enumerable.Range(0, margins.Count).Where(i => folds[i] != fold).ToList();
            var scored = Enumerable.Range(0, margins.Count).Where(i => folds[i] == fold).ToList();
            var calibrator = BoostedTreeModel.FitCalibrator(ml, method, [.. fit.Select(i => margins[i])], [.. fit.Select(i => labels[i])]);
            var p = BoostedTreeModel.ApplyCalibrator(ml, calibrator, [.. scored.Select(i => margins[i])]);
            for (var j = 0; j < scored.Count; j++)
            {
                probabilities[scored[j]] = p[j];
            }
        }

        return probabilities;
    }
}
