using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer.Tests;

public sealed class CalibrationChoiceTests
{
    /// <summary>
    /// Validation rows whose margins m carry probability <paramref name="truth"/>(m); patients alternate between folds
    /// every 50 rows.
    /// </summary>
    private static (float[] Margins, bool[] Labels, int[] Folds) Rows(Func<double, double> truth, int count = 6000)
    {
        var random = new Random(3);
        var margins = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 8 - 6)).ToArray();
        var labels = margins.Select(m => random.NextDouble() < truth(m)).ToArray();
        return (margins, labels, [.. Enumerable.Range(0, count).Select(i => i / 50 % 2)]);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void An_over_confident_training_sigmoid_loses_to_platt_fitted_on_validation()
    {
        var (margins, labels, folds) = Rows(m => Sigmoid(0.8 * m + 1));
        var overConfident = margins.Select(m => (float)Sigmoid(3 * m + 4)).ToArray();

        var choice = CalibrationChoice.Choose(margins, overConfident, labels, folds, seed: 1);

        Assert.Equal(CalibrationChoice.PlattValidation, choice.Chosen);
        Assert.Equal([CalibrationChoice.PlattTrain, CalibrationChoice.PlattValidation, CalibrationChoice.IsotonicValidation], choice.Candidates.Select(c => c.Name));
        var byName = choice.Candidates.ToDictionary(c => c.Name);
        Assert.True(byName[CalibrationChoice.PlattValidation].Brier < byName[CalibrationChoice.PlattTrain].Brier);
        Assert.True(byName[CalibrationChoice.PlattValidation].Ece < 0.02, $"ECE {byName[CalibrationChoice.PlattValidation].Ece}");
        Assert.StartsWith("platt-validation has the lowest validation Brier score", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_calibrated_training_sigmoid_is_kept()
    {
        var (margins, labels, folds) = Rows(m => Sigmoid(m));
        var calibrated = margins.Select(m => (float)Sigmoid(m)).ToArray();

        var choice = CalibrationChoice.Choose(margins, calibrated, labels, folds, seed: 1);

        // The true probabilities themselves: nothing fitted to a sample of 6,000 rows beats them by more than noise.
        var byName = choice.Candidates.ToDictionary(c => c.Name);
        Assert.True(byName[CalibrationChoice.PlattTrain].Brier <= byName[CalibrationChoice.PlattValidation].Brier + 1e-4);
    }

    [Fact]
    public void Isotonic_is_measured_and_reported_but_never_chosen_since_onnx_cannot_carry_it()
    {
        // A step in the true probability: isotonic regression follows it, a sigmoid cannot.
        var (margins, labels, folds) = Rows(m => m < -1 ? 0.02 : 0.6);
        var sigmoid = margins.Select(m => (float)Sigmoid(m)).ToArray();

        var choice = CalibrationChoice.Choose(margins, sigmoid, labels, folds, seed: 1);

        var isotonic = choice.Candidates.Single(c => c.Name == CalibrationChoice.IsotonicValidation);
        Assert.False(isotonic.Exportable);
        Assert.True(isotonic.Brier < choice.Candidates.Where(c => c.Exportable).Min(c => c.Brier), "isotonic should fit a step best");
        Assert.NotEqual(CalibrationChoice.IsotonicValidation, choice.Chosen);
        Assert.Contains("lower, but ML.NET cannot export it to ONNX", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_both_classes_in_each_fold_the_training_sigmoid_is_kept_and_the_reason_says_why()
    {
        var (margins, labels, folds) = Rows(m => Sigmoid(m));
        var oneClassFold = labels.Select((l, i) => folds[i] == 1 ? false : l).ToArray();

        var choice = CalibrationChoice.Choose(margins, margins.Select(m => (float)Sigmoid(m)).ToArray(), oneClassFold, folds, seed: 1);

        Assert.Equal(CalibrationChoice.PlattTrain, choice.Chosen);
        Assert.Contains("do not both hold positive and negative hours", choice.Reason, StringComparison.Ordinal);
    }
}
