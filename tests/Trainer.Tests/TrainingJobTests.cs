using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>
/// One synthetic trial (100 patients over 4 days) replayed into hourly rows, shared by the tests; uncensored, so every
/// patient has rows (censoring drops the patients whose first event precedes their first hour). Enriched (four times
/// the realistic event rate): at the realistic rate the 15 test patients hold too few events to measure a model on.
/// </summary>
public sealed class TrialRowsFixture
{
    public const int Days = 4;

    public const int Patients = 100;

    public const double EventRate = 4;

    public static readonly LabelDefinition Label = new("any", 24, CensorAfterFirstEvent: false);

    internal ReplayedHistories Rows { get; } = new("synthetic trial",
        SyntheticHistories.Create(seed: 11, Patients, messages: Patients * 100, days: Days, eventRate: EventRate), Label);
}

public sealed class TrainingJobTests(TrialRowsFixture trial) : IClassFixture<TrialRowsFixture>
{
    private static readonly TrainerParameters Parameters = new(Seed: 5, Trees: 30, Leaves: 15, MinimumExamplesPerLeaf: 10);

    [Fact]
    public async Task A_run_splits_by_patient_trains_evaluates_and_writes_every_artifact()
    {
        using var data = new DataDirectory();
        var (result, tracking) = await TrainAsync(trial.Rows, data.Path, "v-artifacts");

        var meta = result.Metadata;
        Assert.Equal(FeatureCatalogue.Names, meta.FeatureNames);
        Assert.Equal(FeatureCatalogue.Version, meta.FeatureVersion);
        Assert.Equal((TrialRowsFixture.Label, "adverse-event-24h"), (meta.Label, meta.ModelName));
        Assert.Equal(TrialRowsFixture.Patients, meta.TrainingData.Patients);
        Assert.Equal((70, 15, 15), (meta.TrainingData.SplitPatients["train"], meta.TrainingData.SplitPatients["validation"], meta.TrainingData.SplitPatients["test"]));
        Assert.Equal(meta.TrainingData.Rows, meta.TrainingData.SplitRows.Values.Sum());
        Assert.True(meta.Metrics["test"].Auroc > 0.6, $"The synthetic trial carries a signal (15 test patients, so a loose bound); test AUROC was {meta.Metrics["test"].Auroc}.");
        Assert.Equal(2, meta.Metrics["validation"].Confusion.Count);
        Assert.NotNull(meta.TrainingData.ContentHash);
        var reference = Assert.IsType<TrainingReference>(meta.Reference);
        Assert.Equal(meta.FeatureNames, reference.Features.Select(f => f.Name));
        Assert.All(reference.Features, f => Assert.Equal(meta.TrainingData.Rows, f.Total));
        Assert.Contains(reference.Features, f => f.Edges.Count > 1);
        Assert.Equal(meta.Metrics["validation"].Rows + meta.Metrics["test"].Rows, reference.Score.Total);
        Assert.Equal(0, reference.Score.Missing);
        foreach (var file in new[] { ModelArtifacts.Onnx, ModelArtifacts.Metadata, ModelArtifacts.Report })
        {
            Assert.True(new FileInfo(Path.Combine(result.Folder, file)).Length > 0, $"{file} is missing or empty.");
        }

        var report = await File.ReadAllTextAsync(Path.Combine(result.Folder, ModelArtifacts.Report), TestContext.Current.CancellationToken);
        foreach (var plot in new[] { ModelArtifacts.RocPlot, ModelArtifacts.ImportancePlot, ModelArtifacts.CalibrationPlot, ModelArtifacts.PrecisionRecallPlot, ModelArtifacts.ConfusionPlot })
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(result.Folder, plot), TestContext.Current.CancellationToken);
            Assert.True(png.Length > 1000, $"{plot} holds {png.Length} bytes.");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.Contains($"]({plot})", report, StringComparison.Ordinal);
        }
        Assert.Equal(meta, ModelJson.ReadMetadata(await File.ReadAllBytesAsync(Path.Combine(result.Folder, ModelArtifacts.Metadata), TestContext.Current.CancellationToken)), MetadataComparer.Instance);

        var run = Assert.Single(await tracking.ListRunsAsync(10, TestContext.Current.CancellationToken));
        Assert.Equal(("succeeded", "v-artifacts", result.RunId), (run.Status, run.ModelVersion, run.RunId));
        Assert.Equal("5", run.Parameters["seed"]);
        Assert.Equal(meta.Metrics["test"].Auroc, run.Metrics["test.auroc"], 12);
        Assert.Equal(FeatureCatalogue.Version, run.Tags["feature_version"]);
        Assert.Equal(Path.Combine(result.Folder, ModelArtifacts.Onnx), run.Artifacts[ModelArtifacts.Onnx]);
    }

    [Fact]
    public async Task The_same_data_and_seed_give_the_same_model_bytes_and_metrics()
    {
        using var first = new DataDirectory();
        using var second = new DataDirectory();
        var (a, _) = await TrainAsync(trial.Rows, first.Path, "v-same");
        var (b, _) = await TrainAsync(trial.Rows, second.Path, "v-same");

        Assert.Equal(a.Onnx, b.Onnx);
        Assert.Equal(a.Metadata.TrainingData.ContentHash, b.Metadata.TrainingData.ContentHash);
        Assert.Equal(ModelJson.Write(a.Metadata.Metrics), ModelJson.Write(b.Metadata.Metrics));
    }

    [Fact]
    public async Task The_onnx_export_scores_like_the_trained_model()
    {
        using var data = new DataDirectory();
        var (result, _) = await TrainAsync(trial.Rows, data.Path, "v-parity");

        // The job itself compares ML.NET with ONNX Runtime on validation rows; here the served path (OnnxModel.Load with
        // the feature check) scores rows one by one, NaN included, as the platform does.
        Assert.True(result.OnnxMaxDifference <= 1e-5, $"ONNX differs from ML.NET by {result.OnnxMaxDifference}.");
        using var model = OnnxModel.Load(result.Metadata, result.Onnx);
        var rows = await ReadAsync(trial.Rows);
        var sample = rows.Where((_, i) => i % 37 == 0).ToList();
        Assert.Contains(sample, r => r.Features.Any(float.IsNaN));
        var batch = model.Score([.. sample.SelectMany(r => r.Features)], sample.Count);
        for (var i = 0; i < sample.Count; i++)
        {
            var single = model.Score(sample[i].Features.Select(f => (double)f).ToArray());
            Assert.Equal(batch[i], single, 1e-6);
        }
    }

    [Fact]
    public async Task A_lightgbm_run_records_its_algorithm_and_its_onnx_export_scores_like_the_trained_model()
    {
        using var data = new DataDirectory();
        var (result, tracking) = await TrainAsync(trial.Rows, data.Path, "v-lightgbm", Parameters with { Algorithm = TreeAlgorithm.LightGbm });

        Assert.Equal("lightgbm", result.Metadata.Parameters["algorithm"]);
        Assert.True(result.OnnxMaxDifference <= 1e-5, $"ONNX differs from ML.NET by {result.OnnxMaxDifference}.");
        using var model = OnnxModel.Load(result.Metadata, result.Onnx);
        var sample = (await ReadAsync(trial.Rows)).Where((_, i) => i % 53 == 0).ToList();
        var scores = model.Score([.. sample.SelectMany(r => r.Features)], sample.Count);
        Assert.True(scores.Distinct().Count() > 5, "the exported model should not be constant");
        Assert.Equal("lightgbm", Assert.Single(await tracking.ListRunsAsync(10, TestContext.Current.CancellationToken)).Parameters["algorithm"]);
    }

    [Fact]
    public async Task Early_stopping_calibration_and_the_utility_threshold_are_chosen_on_validation_and_recorded()
    {
        using var data = new DataDirectory();
        var (result, tracking) = await TrainAsync(trial.Rows, data.Path, "v-choices");

        var parameters = result.Metadata.Parameters;
        Assert.InRange(int.Parse(parameters["trees_kept"], System.Globalization.CultureInfo.InvariantCulture), 1, Parameters.Trees);
        Assert.Contains(parameters["calibration"], new[] { CalibrationChoice.PlattTrain, CalibrationChoice.PlattValidation });
        Assert.Contains("isotonic-validation brier=", parameters["calibration_candidates"], StringComparison.Ordinal);
        Assert.Contains("ML.NET cannot export it to ONNX", parameters["calibration_reason"], StringComparison.Ordinal);
        Assert.InRange(double.Parse(parameters[TrainingJob.UtilityThresholdParameter], System.Globalization.CultureInfo.InvariantCulture), 0.005, 0.995);
        Assert.Equal("off", parameters["tuning"]);
        var run = Assert.Single(await tracking.ListRunsAsync(10, TestContext.Current.CancellationToken));
        Assert.Equal(parameters["calibration"], run.Parameters["calibration"]);
        Assert.Equal(double.Parse(parameters["trees_kept"], System.Globalization.CultureInfo.InvariantCulture), run.Metrics["trees_kept"]);
        var utilities = result.Alerting!["test"];
        Assert.Equal(["MEDIUM", "HIGH", TrainingJob.UtilityThresholdName], utilities.Select(u => u.Name));
        Assert.Equal(utilities[2].Utility, run.Metrics["test.utility"], 12);
        var report = await File.ReadAllTextAsync(Path.Combine(result.Folder, ModelArtifacts.Report), TestContext.Current.CancellationToken);
        Assert.Contains("| split | threshold | utility | alerts per patient-day | onsets flagged | median lead (h) |", report, StringComparison.Ordinal);
        Assert.Contains($"- calibration_reason: {parameters["calibration_reason"]}", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tuning_tries_every_candidate_and_keeps_the_best_validation_auroc()
    {
        using var data = new DataDirectory();
        var grid = new TuningGrid([30], [4, 15], [0.1], [10]);
        var (result, _) = await TrainAsync(trial.Rows, data.Path, "v-tuned", Parameters with { Tuning = grid });

        var parameters = result.Metadata.Parameters;
        var trials = parameters["tuning_trials"].Split("; ");
        Assert.Equal(2, trials.Length);
        var aurocs = trials.Select(t => double.Parse(t[(t.IndexOf("validation_auroc=", StringComparison.Ordinal) + "validation_auroc=".Length)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var best = trials[aurocs.IndexOf(aurocs.Max())];
        Assert.StartsWith($"trees<=30 leaves={parameters["leaves"]} ", best, StringComparison.Ordinal);
        Assert.Equal($"2 candidates, picked by validation AUROC: {new TrainerParameters(Trees: 30, Leaves: int.Parse(parameters["leaves"], System.Globalization.CultureInfo.InvariantCulture), MinimumExamplesPerLeaf: 10).Describe()}",
            parameters["tuning"]);
        // The model kept is the winner itself, not a retrained one: its validation AUROC is the winner's (before calibration, which keeps the order).
        Assert.Equal(aurocs.Max(), result.Metadata.Metrics["validation"].Auroc, 3);
    }

    [Fact]
    public async Task An_empty_range_is_a_clear_error_and_a_failed_run()
    {
        using var data = new DataDirectory();
        var tracking = new SqliteTrackingStore(Path.Combine(data.Path, TrackingStore.SqliteFileName));
        var job = new TrainingJob(trial.Rows, data.Path, Parameters, new RiskThresholds(), new StorageRegistrar(new LocalLakeStorage(data.Path)), tracking);

        var error = await Assert.ThrowsAsync<TrainingException>(() => job.RunAsync(new DateOnly(2020, 1, 1), new DateOnly(2020, 3, 1), null, TestContext.Current.CancellationToken));

        Assert.Contains("No training rows from 2020-01-01 to 2020-03-01", error.Message, StringComparison.Ordinal);
        var run = Assert.Single(await tracking.ListRunsAsync(10, TestContext.Current.CancellationToken));
        Assert.Equal(("failed", error.Message), (run.Status, run.Error));
        Assert.False(Directory.Exists(Path.Combine(data.Path, "models")));
    }

    [Fact]
    public async Task The_label_is_chosen_per_run_from_the_same_histories_and_recorded_in_the_model()
    {
        using var data = new DataDirectory();
        var histories = SyntheticHistories.Create(seed: 11, TrialRowsFixture.Patients, messages: TrialRowsFixture.Patients * 100, days: TrialRowsFixture.Days,
            eventRate: TrialRowsFixture.EventRate);
        var uncensored = await ReadAsync(new ReplayedHistories("synthetic trial", histories, new LabelDefinition("any", 6, false)));
        var censored = await ReadAsync(new ReplayedHistories("synthetic trial", histories, new LabelDefinition("any", 6, true)));
        var firstOnset = histories.ToDictionary(h => h.Key, h => h.Value.Select(m => m.Payload).OfType<Domain.Messages.AdverseEvent>().Select(e => e.Onset).DefaultIfEmpty(DateTimeOffset.MaxValue).Min());

        Assert.True(censored.Count < uncensored.Count);
        Assert.All(censored, r => Assert.True(r.Timestamp < firstOnset[r.PatientId]));
        Assert.Equal(uncensored.Where(r => r.Timestamp < firstOnset[r.PatientId]).Select(r => (r.PatientId, r.Timestamp, r.Label)), censored.Select(r => (r.PatientId, r.Timestamp, r.Label)));

        var (result, _) = await TrainAsync(new ReplayedHistories("synthetic trial", histories, new LabelDefinition("any", 6, true)), data.Path, "v-6h");

        Assert.Equal(("adverse-event-6h", 6), (result.Metadata.ModelName, result.Metadata.LabelOrLegacy.HorizonHours));
        Assert.Equal(censored.Count, result.Metadata.TrainingData.Rows);
        Assert.Contains("adverse event within 6 h", await File.ReadAllTextAsync(Path.Combine(result.Folder, ModelArtifacts.Report), TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_training_set_of_one_class_is_a_clear_error()
    {
        using var data = new DataDirectory();
        var negatives = new FixedRows([.. (await ReadAsync(trial.Rows)).Select(r => r with { Label = false })]);
        var job = new TrainingJob(negatives, data.Path, Parameters, new RiskThresholds(), new StorageRegistrar(new LocalLakeStorage(data.Path)),
            new SqliteTrackingStore(Path.Combine(data.Path, TrackingStore.SqliteFileName)));

        var error = await Assert.ThrowsAsync<TrainingException>(() => job.RunAsync(SyntheticHistories.FirstDay, SyntheticHistories.LastDay(TrialRowsFixture.Days), null, TestContext.Current.CancellationToken));

        Assert.StartsWith("The training split has only negative labels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_of_another_feature_version_is_refused_at_load()
    {
        using var data = new DataDirectory();
        var (result, _) = await TrainAsync(trial.Rows, data.Path, "v-mismatch");

        var otherVersion = Assert.Throws<ModelRefusedException>(() => OnnxModel.Load(result.Metadata with { FeatureVersion = "v1-00000000" }, result.Onnx));
        Assert.Contains($"trained on feature version v1-00000000, but this platform computes {FeatureCatalogue.Version}", otherVersion.Message, StringComparison.Ordinal);

        string[] renamed = [.. FeatureCatalogue.Names];
        (renamed[3], renamed[4]) = (renamed[4], renamed[3]);
        var reordered = Assert.Throws<ModelRefusedException>(() => OnnxModel.Load(result.Metadata with { FeatureNames = renamed }, result.Onnx));
        Assert.Contains($"expects feature '{renamed[3]}' at position 3", reordered.Message, StringComparison.Ordinal);
    }

    private static async Task<(TrainingResult Result, ITrackingStore Tracking)> TrainAsync(ITrainingRows rows, string dataDirectory, string version,
        TrainerParameters? parameters = null)
    {
        var tracking = new SqliteTrackingStore(Path.Combine(dataDirectory, TrackingStore.SqliteFileName));
        var job = new TrainingJob(rows, dataDirectory, parameters ?? Parameters, new RiskThresholds(), new StorageRegistrar(new LocalLakeStorage(dataDirectory)), tracking);
        var result = await job.RunAsync(SyntheticHistories.FirstDay, SyntheticHistories.LastDay(TrialRowsFixture.Days), version, TestContext.Current.CancellationToken);
        return (result, tracking);
    }

    private static async Task<List<TrainingRow>> ReadAsync(ITrainingRows rows)
    {
        var list = new List<TrainingRow>();
        await foreach (var row in rows.ReadAsync(SyntheticHistories.FirstDay, SyntheticHistories.LastDay(TrialRowsFixture.Days), TestContext.Current.CancellationToken))
        {
            list.Add(row);
        }

        return list;
    }

    private sealed class FixedRows(IReadOnlyList<TrainingRow> rows) : ITrainingRows
    {
        public string Source => "fixed rows";

        public string FeatureVersion => FeatureCatalogue.Version;

        public LabelDefinition Label => LabelDefinition.Default;

        public IReadOnlyList<string> FeatureNames => FeatureCatalogue.Names;

        public async IAsyncEnumerable<TrainingRow> ReadAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var row in rows)
            {
                yield return row;
            }

            await Task.CompletedTask;
        }
    }

    /// <summary>Metadata round-trips through JSON: compare its JSON, since records holding lists compare by reference.</summary>
    private sealed class MetadataComparer : IEqualityComparer<ModelMetadata>
    {
        public static readonly MetadataComparer Instance = new();

        public bool Equals(ModelMetadata? x, ModelMetadata? y) => ModelJson.Write(x).AsSpan().SequenceEqual(ModelJson.Write(y));

        public int GetHashCode(ModelMetadata obj) => 0;
    }
}
