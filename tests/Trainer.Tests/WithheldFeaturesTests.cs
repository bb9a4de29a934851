using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer.Tests;

public sealed class WithheldFeaturesTests(TrialRowsFixture trial) : IClassFixture<TrialRowsFixture>
{
    private static readonly TrainerParameters Small = new(Trees: 10, Leaves: 4, MinimumExamplesPerLeaf: 5);

    /// <summary>Column 0 is a copy of the label; column 2 a noisy signal; column 1 noise.</summary>
    private static List<(float[] Features, bool Label)> Rows()
    {
        var random = new Random(1);
        return [.. Enumerable.Range(0, 600).Select(i =>
        {
            var label = i % 3 == 0;
            var signal = label ? 0.5f + 0.5f * (float)random.NextDouble() : 0.7f * (float)random.NextDouble();
            return (new[] { label ? 1f : 0f, (float)random.NextDouble(), signal }, label);
        })];
    }

    [Fact]
    public void A_withheld_feature_is_never_split_on_even_when_it_is_a_copy_of_the_label()
    {
        var open = BoostedTreeModel.Train(Rows(), 3, Small).FeatureImportance();
        var withheld = BoostedTreeModel.Train(Rows(), 3, Small, withheld: new HashSet<int> { 0 }).FeatureImportance();

        Assert.True(open[0] > open[2], "Without withholding, the label's copy is the most important feature.");
        Assert.Equal(0f, withheld[0]);
        Assert.True(withheld[2] > 0);
    }

    [Fact]
    public async Task A_run_records_the_withheld_features_and_refuses_a_name_the_catalogue_lacks()
    {
        Assert.Equal(string.Join(",", TrainerParameters.IdentityAndTimeFeatures), new TrainerParameters().ToDictionary()["withheld_features"]);
        Assert.Equal("none", new TrainerParameters(WithheldFeatures: []).ToDictionary()["withheld_features"]);

        using var data = new DataDirectory();
        var job = new TrainingJob(trial.Rows, data.Path, Small with { WithheldFeatures = ["weight_kilos"] }, new RiskThresholds(),
            new StorageRegistrar(new LocalLakeStorage(data.Path)), new SqliteTrackingStore(Path.Combine(data.Path, TrackingStore.SqliteFileName)));

        var error = await Assert.ThrowsAsync<TrainingException>(() => job.RunAsync(SyntheticHistories.FirstDay, SyntheticHistories.LastDay(TrialRowsFixture.Days), null,
            TestContext.Current.CancellationToken));

        Assert.StartsWith("--withhold names 'weight_kilos', which is not a feature", error.Message, StringComparison.Ordinal);
    }
}
