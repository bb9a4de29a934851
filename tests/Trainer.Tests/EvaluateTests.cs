using System.CommandLine;
using System.Globalization;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Evaluation;
using ParquetSharp;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>
/// The synthetic trial through the lake's jobs into an offline feature store, a 6 h model trained on its first two days
/// from the command line, and <c>evaluate</c> on the last two days, which the model never saw.
/// </summary>
public sealed class EvaluatedStoreFixture : IAsyncLifetime
{
    public const string Version = "v-external";

    public static readonly DateOnly TrainFrom = SyntheticHistories.FirstDay;
    public static readonly DateOnly TrainTo = TrainFrom.AddDays(1);
    public static readonly DateOnly EvaluateFrom = TrainFrom.AddDays(2);
    public static readonly DateOnly EvaluateTo = SyntheticHistories.LastDay(TrialRowsFixture.Days);

    private readonly DataDirectory _data = new();

    public string DataDirectory => _data.Path;

    public string Csv => Path.Combine(DataDirectory, "scores.csv");

    public string ReportFolder => Path.Combine(DataDirectory, "evaluations", $"{Version}-{EvaluateFrom:yyyyMMdd}-{EvaluateTo:yyyyMMdd}");

    public async ValueTask InitializeAsync()
    {
        await SyntheticFeatureStore.BuildAsync(DataDirectory, SyntheticHistories.Messages(seed: 11, TrialRowsFixture.Patients, TrialRowsFixture.Patients * 100,
            TrialRowsFixture.Days, eventRate: TrialRowsFixture.EventRate), TrainFrom, EvaluateTo);
        Assert.Equal(0, await Run("train", "--data-dir", DataDirectory, "--from", Day(TrainFrom), "--to", Day(TrainTo), "--version", Version,
            "--algorithm", "lightgbm", "--trees", "30", "--leaves", "8", "--min-leaf", "10", "--early-stopping-rounds", "5", "--horizon-hours", "6"));
        Assert.Equal(0, await Run("evaluate", "--model", Version, "--data-dir", DataDirectory, "--from", Day(EvaluateFrom), "--to", Day(EvaluateTo),
            "--export-scores", Csv));
    }

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static async Task<int> Run(params string[] arguments) =>
        await TrainerCommandLine.Create().Parse(arguments).InvokeAsync(new InvocationConfiguration { Error = new StringWriter() }, TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync()
    {
        _data.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class EvaluateTests(EvaluatedStoreFixture store) : IClassFixture<EvaluatedStoreFixture>
{
    private static readonly LabelDefinition SixHours = new("any", 6, CensorAfterFirstEvent: true);

    private static List<(string Patient, DateTimeOffset Hour, float Score, bool Label)> ReadCsv(string path) =>
        [.. File.ReadLines(path).Skip(1).Select(line => line.Split(',')).Select(f => (f[0], DateTimeOffset.Parse(f[1], CultureInfo.InvariantCulture),
            float.Parse(f[2], CultureInfo.InvariantCulture), f[3] == "1"))];

    private async Task<List<TrainingRow>> RowsAsync(LabelDefinition label)
    {
        var rows = await LakeTrainingRows.OpenAsync(new LocalLakeStorage(store.DataDirectory), EvaluatedStoreFixture.EvaluateFrom, EvaluatedStoreFixture.EvaluateTo,
            label, TestContext.Current.CancellationToken);
        var list = new List<TrainingRow>();
        await foreach (var row in rows.ReadAsync(EvaluatedStoreFixture.EvaluateFrom, EvaluatedStoreFixture.EvaluateTo, TestContext.Current.CancellationToken))
        {
            list.Add(row);
        }

        return list;
    }

    [Fact]
    public async Task Evaluate_scores_every_hour_of_the_range_with_the_models_own_label_through_the_served_onnx()
    {
        var exported = ReadCsv(store.Csv);
        var expected = await RowsAsync(SixHours);
        var folder = ModelArtifacts.Folder(store.DataDirectory, EvaluatedStoreFixture.Version);
        var metadata = ModelJson.ReadMetadata(await File.ReadAllBytesAsync(Path.Combine(folder, ModelArtifacts.Metadata), TestContext.Current.CancellationToken));
        using var served = OnnxModel.Load(metadata, await File.ReadAllBytesAsync(Path.Combine(folder, ModelArtifacts.Onnx), TestContext.Current.CancellationToken));

        Assert.Equal(SixHours, metadata.Label);
        Assert.Equal("lightgbm", metadata.Parameters["algorithm"]);
        Assert.Equal(expected.Select(r => (r.PatientId, r.Timestamp, r.Label)), exported.Select(r => (r.Patient, r.Hour, r.Label)));
        Assert.Contains(exported, r => r.Label);
        // Under the trainer's default label (24 h) the same hours would be labelled otherwise: the label came from the model.
        Assert.NotEqual((await RowsAsync(LabelDefinition.Default)).Select(r => r.Label), exported.Select(r => r.Label));
        for (var i = 0; i < expected.Count; i += 17)
        {
            Assert.Equal(served.Score([.. expected[i].Features.Select(f => (double)f)]), exported[i].Score);
        }
    }

    [Fact]
    public async Task Evaluate_writes_the_metrics_and_plots_training_writes_computed_from_the_exported_scores()
    {
        var exported = ReadCsv(store.Csv);
        var p = exported.Select(r => r.Score).ToArray();
        var y = exported.Select(r => r.Label).ToArray();
        var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(store.ReportFolder, ModelEvaluation.MetricsFile), TestContext.Current.CancellationToken));
        var metrics = json.RootElement.GetProperty("metrics");

        Assert.Equal(exported.Count, metrics.GetProperty("rows").GetInt64());
        Assert.Equal(y.Count(l => l), metrics.GetProperty("positives").GetInt64());
        Assert.Equal(BinaryMetrics.Auroc(p, y), metrics.GetProperty("auroc").GetDouble(), 12);
        Assert.Equal(BinaryMetrics.Brier(p, y), metrics.GetProperty("brier").GetDouble(), 6);
        var report = await File.ReadAllTextAsync(Path.Combine(store.ReportFolder, ModelArtifacts.Report), TestContext.Current.CancellationToken);
        Assert.Contains("Predicts: adverse event within 6 h", report, StringComparison.Ordinal);
        Assert.Contains("| split | threshold | utility | alerts per patient-day | onsets flagged | median lead (h) |", report, StringComparison.Ordinal);
        Assert.Contains(TrainingJob.UtilityThresholdName, report, StringComparison.Ordinal);
        var alerting = json.RootElement.GetProperty("alerting").EnumerateArray().ToList();
        Assert.Equal(3, alerting.Count);
        foreach (var at in alerting)
        {
            var threshold = at.GetProperty("threshold").GetDouble();
            Assert.Equal(24.0 * p.Count(s => s >= threshold) / p.Length, at.GetProperty("alerts_per_patient_day").GetDouble(), 9);
        }
        Assert.DoesNotContain("Warning", report, StringComparison.Ordinal);
        foreach (var plot in new[] { ModelArtifacts.RocPlot, ModelArtifacts.CalibrationPlot, ModelArtifacts.PrecisionRecallPlot, ModelArtifacts.ConfusionPlot })
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(store.ReportFolder, plot), TestContext.Current.CancellationToken);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.Contains($"]({plot})", report, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Parquet_export_holds_the_same_hourly_scores_as_csv()
    {
        var parquet = Path.Combine(store.DataDirectory, "scores.parquet");
        var output = Path.Combine(store.DataDirectory, "evaluation-parquet");

        Assert.Equal(0, await EvaluatedStoreFixture.Run("evaluate", "--model", EvaluatedStoreFixture.Version, "--data-dir", store.DataDirectory,
            "--from", EvaluatedStoreFixture.Day(EvaluatedStoreFixture.EvaluateFrom), "--to", EvaluatedStoreFixture.Day(EvaluatedStoreFixture.EvaluateTo),
            "--out", output, "--export-scores", parquet));

        using var reader = new ParquetFileReader(parquet);
        using var group = reader.RowGroup(0);
        var rows = checked((int)group.MetaData.NumRows);
        var patients = group.Column(0).LogicalReader<string>().ReadAll(rows);
        var hours = group.Column(1).LogicalReader<DateTime>().ReadAll(rows);
        var scores = group.Column(2).LogicalReader<float>().ReadAll(rows);
        var labels = group.Column(3).LogicalReader<bool>().ReadAll(rows);
        Assert.Equal(ReadCsv(store.Csv), Enumerable.Range(0, rows).Select(i =>
            (patients[i], new DateTimeOffset(DateTime.SpecifyKind(hours[i], DateTimeKind.Utc)), scores[i], labels[i])));
        Assert.False(File.Exists(parquet + ".tmp"));
    }

    [Fact]
    public async Task Evaluating_the_models_own_training_days_warns_that_it_is_not_external_validation()
    {
        var result = await new ModelEvaluation(new LocalLakeStorage(store.DataDirectory), new LocalLakeStorage(store.DataDirectory), new RiskThresholds())
            .RunAsync(EvaluatedStoreFixture.Version, EvaluatedStoreFixture.TrainFrom, EvaluatedStoreFixture.TrainTo, Path.Combine(store.DataDirectory, "evaluation-own"), null,
                TestContext.Current.CancellationToken);

        var warning = Assert.Single(result.Warnings);
        Assert.Contains("are the model's training data", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_model_comes_from_the_registry_dir_and_the_features_from_another_data_dir()
    {
        using var other = new DataDirectory();
        foreach (var file in Directory.EnumerateFiles(store.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(store.DataDirectory, f).Replace('\\', '/') is var key
                && (key.StartsWith(Lake.LakeLayout.Processed, StringComparison.Ordinal) || key.StartsWith(Lake.LakeLayout.OfflineFeatures, StringComparison.Ordinal))))
        {
            var copy = Path.Combine(other.Path, Path.GetRelativePath(store.DataDirectory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }

        string[] range = ["--from", EvaluatedStoreFixture.Day(EvaluatedStoreFixture.EvaluateFrom), "--to", EvaluatedStoreFixture.Day(EvaluatedStoreFixture.EvaluateTo)];
        Assert.Equal(1, await EvaluatedStoreFixture.Run(["evaluate", "--model", EvaluatedStoreFixture.Version, "--data-dir", other.Path, .. range]));
        Assert.Equal(0, await EvaluatedStoreFixture.Run(["evaluate", "--model", EvaluatedStoreFixture.Version, "--data-dir", other.Path, "--registry-dir", store.DataDirectory, .. range]));

        // The same model on the same features: the same figures.
        var metrics = Path.Combine(other.Path, "evaluations", $"{EvaluatedStoreFixture.Version}-{EvaluatedStoreFixture.EvaluateFrom:yyyyMMdd}-{EvaluatedStoreFixture.EvaluateTo:yyyyMMdd}", ModelEvaluation.MetricsFile);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(store.ReportFolder, ModelEvaluation.MetricsFile), TestContext.Current.CancellationToken),
            await File.ReadAllBytesAsync(metrics, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("v-missing", null, "No model v-missing in")]
    [InlineData(EvaluatedStoreFixture.Version, "scores.txt", "--export-scores must name a .csv or .parquet file")]
    public async Task A_missing_model_or_an_unknown_export_format_is_a_clear_error_before_anything_is_written(string version, string? export, string message)
    {
        var output = Path.Combine(store.DataDirectory, "evaluation-refused-" + version);
        var evaluation = new ModelEvaluation(new LocalLakeStorage(store.DataDirectory), new LocalLakeStorage(store.DataDirectory), new RiskThresholds());

        var error = await Assert.ThrowsAsync<TrainingException>(() => evaluation.RunAsync(version, EvaluatedStoreFixture.EvaluateFrom, EvaluatedStoreFixture.EvaluateTo,
            output, export is null ? null : Path.Combine(store.DataDirectory, export), TestContext.Current.CancellationToken));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }
}
