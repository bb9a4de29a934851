using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Evaluation;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Reporting;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Reporting;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer;

/// <summary>A step of a run, for the progress display: its name and how far it is (0..1; null while unknown).</summary>
public sealed record TrainingProgress(string Step, double? Fraction, string? Detail = null);

/// <summary>What a run produced.</summary>
/// <remarks><c>AurocIntervals</c>: DeLong 95 % intervals by split, for splits holding both classes.
/// <c>Alerting</c>: by split, the challenge's utility, alert burden and lead time at the serving thresholds and at the threshold best on validation.</remarks>
public sealed record TrainingResult(string RunId, ModelMetadata Metadata, string Folder, byte[] Onnx, double OnnxMaxDifference, TimeSpan TrainingTime,
    IReadOnlyDictionary<string, AurocInterval>? AurocIntervals = null, IReadOnlyDictionary<string, IReadOnlyList<AlertingAt>>? Alerting = null);

/// <summary>
/// One training run, start to finish: read the rows of a date range, split by patient, train, evaluate on validation and
/// test, export and verify ONNX, write the artifacts under <c>models/{version}/</c>, register the model as staging and
/// record the run (also a failed one) in the tracking database.
/// </summary>
public sealed class TrainingJob(
    ITrainingRows rows,
    string dataDirectory,
    TrainerParameters parameters,
    RiskThresholds thresholds,
    IModelRegistrar registrar,
    ITrackingStore tracking,
    IProgress<TrainingProgress>? progress = null,
    TimeProvider? time = null)
{
    /// <summary>The name of the alert threshold chosen for the challenge's utility, in reports and as a model parameter.</summary>
    public const string UtilityThresholdName = "best utility on validation";

    /// <summary>The metadata parameter holding the alert threshold of the best validation utility; <c>evaluate</c> reuses it.</summary>
    public const string UtilityThresholdParameter = "utility_threshold";

    private const int TopFeatures = 20;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<TrainingResult> RunAsync(DateOnly from, DateOnly to, string? version = null, CancellationToken cancellationToken = default)
    {
        var runId = Guid.NewGuid().ToString("N");
        var started = _time.GetUtcNow();
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["source"] = rows.Source,
            ["feature_version"] = rows.FeatureVersion,
            ["label"] = rows.Label.ModelName + (rows.Label.CensorAfterFirstEvent ? " censored" : ""),
            ["from"] = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["to"] = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["code_commit"] = CodeCommit ?? "unknown",
            ["registry"] = registrar.Description,
        };
        await tracking.InitializeAsync(cancellationToken);
        try
        {
            var result = await TrainAsync(runId, from, to, version, cancellationToken);
            var artifacts = Directory.GetFiles(result.Folder).Order(StringComparer.Ordinal)
                .ToDictionary(f => Path.GetFileName(f), f => f, StringComparer.Ordinal);
            await tracking.RecordRunAsync(new ExperimentRun(runId, started, _time.GetUtcNow(), "succeeded", result.Metadata.Version,
                result.Metadata.Parameters, FlatMetrics(result), tags, artifacts, null), cancellationToken);
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await tracking.RecordRunAsync(new ExperimentRun(runId, started, _time.GetUtcNow(), "failed", null,
                parameters.ToDictionary(), new Dictionary<string, double>(), tags, new Dictionary<string, string>(), e.Message), CancellationToken.None);
            throw;
        }
    }

    /// <summary>The git commit the trainer was built from (the SDK stamps it into the informational version).</summary>
    public static string? CodeCommit =>
        typeof(TrainingJob).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion is { } v && v.IndexOf('+') is var plus and >= 0
            ? v[(plus + 1)..]
            : null;

    private async Task<TrainingResult> TrainAsync(string runId, DateOnly from, DateOnly to, string? version, CancellationToken cancellationToken)
    {
        if (to < from)
        {
            throw new TrainingException($"The date range is empty: --from {from:yyyy-MM-dd} is after --to {to:yyyy-MM-dd}.");
        }

        var featureCount = rows.FeatureNames.Count;
        var all = new List<TrainingRow>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Report("Reading rows", null, rows.Source);
        await foreach (var row in rows.ReadAsync(from, to, cancellationToken))
        {
            if (row.Features.Length != featureCount)
            {
                throw new TrainingException($"A row of patient {row.PatientId} at {row.Timestamp:O} has {row.Features.Length} features, not {featureCount}.");
            }

            all.Add(row);
            AddToHash(hash, row);
            if (all.Count % 50_000 == 0)
            {
                Report("Reading rows", null, $"{all.Count:N0} rows");
            }
        }

        if (all.Count == 0)
        {
            throw new TrainingException($"No training rows from {from:yyyy-MM-dd} to {to:yyyy-MM-dd} in {rows.Source}: run the lake jobs (offline features) first, or widen --from/--to.");
        }

        var split = PatientSplit.Create(all.Select(r => r.PatientId), parameters.Seed);
        var train = all.Where(r => split[r.PatientId] == SplitName.Train).ToList();
        var validation = all.Where(r => split[r.PatientId] == SplitName.Validation).ToList();
        var test = all.Where(r => split[r.PatientId] == SplitName.Test).ToList();
        var positives = train.Count(r => r.Label);
        if (train.Count == 0)
        {
            throw new TrainingException($"The training split is empty: {split.Count(SplitName.Train)} of the data's patients fell in it. More patients are needed.");
        }

        if (positives == 0 || positives == train.Count)
        {
            throw new TrainingException(
                $"The training split has only {(positives == 0 ? "negative" : "positive")} labels ({train.Count:N0} rows): a classifier needs both classes. Widen the date range or check the outcome ({rows.Label.Description}).");
        }

        var names = rows.FeatureNames.ToList();
        var withheld = parameters.Withheld.Select(name => names.IndexOf(name) is var i and >= 0 ? i
            : throw new TrainingException($"--withhold names '{name}', which is not a feature of version {rows.FeatureVersion}.")).ToHashSet();
        var stopwatch = Stopwatch.StartNew();
        var (model, chosen, trials) = Train(train, validation, featureCount, withheld);
        var calibration = Calibrate(ref model, validation);
        var trainingTime = stopwatch.Elapsed;
        Report("Training", 1, $"{trainingTime.TotalSeconds:0.0} s, {model.Trees} trees, {calibration.Chosen}");

        Report("Evaluating", null);
        // In the order of EvaluationPlots.ServingThresholdNames.
        var serving = new[] { thresholds.Medium, thresholds.High };
        var splits = new Dictionary<string, List<TrainingRow>>(StringComparer.Ordinal) { ["validation"] = validation, ["test"] = test };
        var scored = splits.ToDictionary(s => s.Key, s => (P: model.Predict([.. s.Value.Select(r => r.Features)]), Y: s.Value.Select(r => r.Label).ToArray()), StringComparer.Ordinal);
        var metrics = scored.ToDictionary(s => s.Key, s => BinaryMetrics.Evaluate(s.Value.P, s.Value.Y, serving), StringComparer.Ordinal);
        var intervals = scored.Where(s => s.Value.Y.Contains(true) && s.Value.Y.Contains(false))
            .ToDictionary(s => s.Key, s => BinaryMetrics.AurocWithInterval(s.Value.P, s.Value.Y), StringComparer.Ordinal);
        var utilityThreshold = ChallengeUtility.BestThreshold(validation, scored["validation"].P);
        var alerting = splits.ToDictionary(s => s.Key, s => AlertingAt.AtThresholds(thresholds, utilityThreshold, s.Value, scored[s.Key].P), StringComparer.Ordinal);
        var reference = new TrainingReference(
            [.. rows.FeatureNames.Select((name, f) => ReferenceDistribution.FromSample(name, all.Select(r => r.Features[f])))],
            ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, scored["validation"].P.Concat(scored["test"].P)));

        Report("Exporting ONNX", null);
        var onnx = model.ToOnnx();
        var createdAt = _time.GetUtcNow();
        version ??= $"{createdAt.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(SHA256.HashData(onnx))[..8]}";
        var metadata = new ModelMetadata(
            version, rows.Label.ModelName, createdAt, rows.FeatureVersion, rows.FeatureNames,
            BoostedTreeModel.FeaturesColumn, BoostedTreeModel.ProbabilityColumn + ".output",
            new TrainingDataSummary(rows.Source, from, to, all.Count, split.Count(SplitName.Train) + split.Count(SplitName.Validation) + split.Count(SplitName.Test),
                all.Count(r => r.Label), Convert.ToHexStringLower(hash.GetHashAndReset()),
                new SortedDictionary<string, int>(StringComparer.Ordinal)
                {
                    ["train"] = split.Count(SplitName.Train), ["validation"] = split.Count(SplitName.Validation), ["test"] = split.Count(SplitName.Test),
                },
                new SortedDictionary<string, long>(StringComparer.Ordinal) { ["train"] = train.Count, ["validation"] = validation.Count, ["test"] = test.Count }),
            metrics, RecordedParameters(chosen, model, calibration, trials, utilityThreshold), CodeCommit, runId, reference, rows.Label);
        var onnxDifference = VerifyOnnx(metadata, onnx, validation.Count > 0 ? validation : train, model);

        Report("Writing artifacts", null);
        var folder = ModelArtifacts.Folder(dataDirectory, version);
        Directory.CreateDirectory(folder);
        var importance = model.FeatureImportance();
        var max = importance.DefaultIfEmpty(0).Max();
        var top = importance.Select((v, i) => (Name: rows.FeatureNames[i], Importance: max > 0 ? (double)v / max : 0))
            .OrderByDescending(f => f.Importance).ThenBy(f => f.Name, StringComparer.Ordinal).Take(TopFeatures).ToList();
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelArtifacts.Onnx), onnx, cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(folder, ModelArtifacts.ImportancePlot), Plots.FeatureImportance(top), cancellationToken);
        await EvaluationPlots.WriteAsync(folder, rows.Label, scored, metrics, "test", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, ModelArtifacts.Report), ReportWriter.Markdown(metadata, top, onnxDifference, intervals, alerting), cancellationToken);

        // metadata.json last: the registry adopts a folder once it has one, so it must never see a half-written model.
        var metadataPath = Path.Combine(folder, ModelArtifacts.Metadata);
        await File.WriteAllBytesAsync(metadataPath + ".tmp", ModelJson.Write(metadata), cancellationToken);
        File.Move(metadataPath + ".tmp", metadataPath, overwrite: true);

        Report("Registering", null, registrar.Description);
        await registrar.RegisterAsync(version, folder, cancellationToken);
        Report("Done", 1, version);
        return new TrainingResult(runId, metadata, folder, onnx, onnxDifference, trainingTime, intervals, alerting);
    }

    /// <summary>
    /// Trains with the run's parameters, or with each candidate of <see cref="TrainerParameters.Tuning"/>, keeping the one
    /// with the best validation AUROC. Every fit stops early on the validation rows.
    /// </summary>
    private (BoostedTreeModel Model, TrainerParameters Chosen, IReadOnlyList<string> Trials) Train(List<TrainingRow> train, List<TrainingRow> validation, int featureCount,
        IReadOnlySet<int> withheld)
    {
        var trainRows = train.Select(r => (r.Features, r.Label)).ToList();
        var validationRows = validation.Count > 0 ? validation.Select(r => (r.Features, r.Label)).ToList() : null;
        var candidates = parameters.Tuning?.Candidates(parameters) ?? [parameters];
        var validationLabels = validation.Select(r => r.Label).ToArray();
        if (candidates.Count > 1 && !(validationLabels.Contains(true) && validationLabels.Contains(false)))
        {
            throw new TrainingException("--tune picks by validation AUROC, but the validation patients' hours are all of one class: more patients are needed.");
        }

        var trials = new List<string>();
        (BoostedTreeModel Model, TrainerParameters Parameters, double Auroc)? best = null;
        foreach (var (candidate, index) in candidates.Select((c, i) => (c, i)))
        {
            var step = candidates.Count > 1 ? $"candidate {index + 1} of {candidates.Count}, {candidate.Describe()}: " : "";
            Report("Training", (double)index / candidates.Count, $"{step}{train.Count:N0} rows x {featureCount - withheld.Count} of {featureCount} features, up to {candidate.Trees} trees");
            var iteration = 0;
            var model = BoostedTreeModel.Train(trainRows, featureCount, candidate, line => Report("Training", null, $"{step}{line} ({++iteration})"), withheld, validationRows);
            if (candidates.Count == 1)
            {
                return (model, candidate, trials);
            }

            var auroc = BinaryMetrics.Auroc(model.Predict([.. validation.Select(r => r.Features)]), validationLabels);
            trials.Add(string.Create(CultureInfo.InvariantCulture, $"{candidate.Describe()} trees_kept={model.Trees} validation_auroc={auroc:0.0000}"));
            if (best is null || auroc > best.Value.Auroc)
            {
                best = (model, candidate, auroc);
            }
        }

        return (best!.Value.Model, best.Value.Parameters, trials);
    }

    /// <summary>
    /// Chooses the calibration on the validation patients (<see cref="CalibrationChoice"/>) and refits the model's sigmoid
    /// to them when that wins. The patients are dealt alternately, in ID order, into the two folds the choice needs.
    /// </summary>
    private CalibrationChoice Calibrate(ref BoostedTreeModel model, List<TrainingRow> validation)
    {
        var features = validation.Select(r => r.Features).ToList();
        var labels = validation.Select(r => r.Label).ToArray();
        var fold = validation.Select(r => r.PatientId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select((patient, i) => (patient, i % 2)).ToDictionary(p => p.patient, p => p.Item2, StringComparer.Ordinal);
        var margins = model.Margins(features);
        var choice = CalibrationChoice.Choose(margins, model.Predict(features), labels, [.. validation.Select(r => fold[r.PatientId])], parameters.Seed);
        if (choice.Chosen == CalibrationChoice.PlattValidation)
        {
            model = model.WithPlattFittedTo(margins, labels);
        }

        return choice;
    }

    /// <summary>The parameters the model was trained with, and what the run chose on validation: trees kept, calibration, tuning, utility threshold.</summary>
    private static SortedDictionary<string, string> RecordedParameters(TrainerParameters chosen, BoostedTreeModel model, CalibrationChoice calibration,
        IReadOnlyList<string> trials, double utilityThreshold)
    {
        var recorded = new SortedDictionary<string, string>(chosen.ToDictionary().ToDictionary(), StringComparer.Ordinal)
        {
            ["trees_kept"] = model.Trees.ToString(CultureInfo.InvariantCulture),
            ["calibration"] = calibration.Chosen,
            ["calibration_reason"] = calibration.Reason,
            ["calibration_candidates"] = string.Join("; ", calibration.Candidates.Select(c =>
                string.Create(CultureInfo.InvariantCulture, $"{c.Name} brier={c.Brier:0.00000} ece={c.Ece:0.0000}{(c.Exportable ? "" : " (no ONNX export)")}"))),
            [UtilityThresholdParameter] = utilityThreshold.ToString(CultureInfo.InvariantCulture),
        };
        if (trials.Count > 0)
        {
            recorded["tuning"] = $"{trials.Count} candidates, picked by validation AUROC: {chosen.Describe()}";
            recorded["tuning_trials"] = string.Join("; ", trials);
        }

        return recorded;
    }

    /// <summary>Scores rows with the exported graph in ONNX Runtime and with ML.NET; refuses an export that disagrees.</summary>
    private static double VerifyOnnx(ModelMetadata metadata, byte[] onnx, IReadOnlyList<TrainingRow> sample, BoostedTreeModel model)
    {
        var rows = sample.Take(2000).ToList();
        var expected = model.Predict([.. rows.Select(r => r.Features)]);
        using var loaded = OnnxModel.LoadWithoutFeatureCheck(metadata, onnx);
        var flat = new float[rows.Count * metadata.FeatureNames.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].Features.CopyTo(flat, i * metadata.FeatureNames.Count);
        }

        var actual = loaded.Score(flat, rows.Count);
        var difference = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).DefaultIfEmpty(0).Max();
        if (difference > 1e-4)
        {
            throw new TrainingException($"The ONNX export disagrees with the trained model by up to {difference:E2}; not registering it.");
        }

        return difference;
    }

    private static Dictionary<string, double> FlatMetrics(TrainingResult result)
    {
        var flat = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["training_seconds"] = Math.Round(result.TrainingTime.TotalSeconds, 3),
            ["onnx_max_abs_diff"] = result.OnnxMaxDifference,
            ["rows"] = result.Metadata.TrainingData.Rows,
            ["trees_kept"] = double.Parse(result.Metadata.Parameters["trees_kept"], CultureInfo.InvariantCulture),
        };
        foreach (var (split, m) in result.Metadata.Metrics)
        {
            flat[$"{split}.auroc"] = m.Auroc;
            flat[$"{split}.auprc"] = m.Auprc;
            flat[$"{split}.brier"] = m.Brier;
            flat[$"{split}.ece"] = BinaryMetrics.ExpectedCalibrationError(m.Calibration);
            if (result.AurocIntervals?.GetValueOrDefault(split) is { } interval)
            {
                (flat[$"{split}.auroc_lower"], flat[$"{split}.auroc_upper"]) = (interval.Lower, interval.Upper);
            }
            flat[$"{split}.rows"] = m.Rows;
            if (result.Alerting?.GetValueOrDefault(split)?.FirstOrDefault(u => u.Name == UtilityThresholdName) is { } utility && !double.IsNaN(utility.Utility))
            {
                flat[$"{split}.utility"] = utility.Utility;
            }
        }

        return flat;
    }

    private static void AddToHash(IncrementalHash hash, TrainingRow row)
    {
        hash.AppendData(Encoding.UTF8.GetBytes(row.PatientId));
        hash.AppendData(BitConverter.GetBytes(row.Timestamp.UtcTicks));
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.Features.AsSpan()));
        hash.AppendData([row.Label ? (byte)1 : (byte)0]);
    }

    private void Report(string step, double? fraction, string? detail = null) => progress?.Report(new TrainingProgress(step, fraction, detail));
}
