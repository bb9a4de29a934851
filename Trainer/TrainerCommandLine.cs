using System.CommandLine;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Trainer;

/// <summary>The trainer's commands (<c>train</c>, <c>evaluate</c>, <c>benchmark</c>) and their options.</summary>
public static class TrainerCommandLine
{
    public static RootCommand Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The platform's data directory (the offline feature store when Storage is local, models/, tracking.db).", DefaultValueFactory = _ => "data" };
        var from = new Option<DateOnly?>("--from") { Description = "First day of training data (UTC, YYYY-MM-DD); default: 89 days before --to." };
        var to = new Option<DateOnly?>("--to") { Description = "Last day of training data (UTC, YYYY-MM-DD); default: today." };
        var api = new Option<string?>("--api") { Description = "Register the model with this running platform (e.g. http://localhost:8080); default: write it into the registry's storage under --data-dir." };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "With --api: the credential sent (Authorization: Bearer), an API key or staff token of role ml_engineer or admin; default: $CLINICAL_API_KEY.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CLINICAL_API_KEY"),
        };
        var seed = new Option<int>("--seed") { Description = "Seed for the patient split and the trees.", DefaultValueFactory = _ => 42 };
        var trees = new Option<int>("--trees") { Description = "Boosting iterations.", DefaultValueFactory = _ => 100 };
        var leaves = new Option<int>("--leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 31 };
        var learningRate = new Option<double>("--learning-rate") { Description = "Shrinkage per tree.", DefaultValueFactory = _ => 0.1 };
        var minLeaf = new Option<int>("--min-leaf") { Description = "Fewest examples in a leaf.", DefaultValueFactory = _ => 20 };
        var algorithm = new Option<string>("--algorithm")
        {
            Description = "fasttree (ML.NET's own) or lightgbm (needs libgomp1, which scripts/servers.sh installs).",
            DefaultValueFactory = _ => TrainerParameters.AlgorithmName(new TrainerParameters().Algorithm),
        };
        algorithm.AcceptOnlyFromAmong(TrainerParameters.AlgorithmName(TreeAlgorithm.FastTree), TrainerParameters.AlgorithmName(TreeAlgorithm.LightGbm));
        var earlyStopping = new Option<int>("--early-stopping-rounds")
        {
            Description = "Stop boosting once the validation patients' AUROC (lightgbm) or loss (fasttree) has not improved for this many trees (--trees is then the most).",
            DefaultValueFactory = _ => new TrainerParameters().EarlyStoppingRounds,
        };
        var tune = new Option<bool>("--tune") { Description = $"Search {TuningGrid.Default} on the validation patients (by AUROC) instead of --trees/--leaves/--learning-rate/--min-leaf; about 12 times as long." };
        var outcome = new Option<string>("--outcome")
        {
            Description = "What to predict: 'any' adverse event, 'serious' ones (flagged serious or SEVERE), or one event term such as SEPSIS.",
            DefaultValueFactory = _ => LabelDefinition.Default.Outcome,
        };
        var horizon = new Option<int>("--horizon-hours") { Description = "Predict an onset within this many hours (1-48).", DefaultValueFactory = _ => LabelDefinition.Default.HorizonHours };
        var noCensor = new Option<bool>("--no-censor") { Description = "Keep the hours after a patient's first event (default: left out of training and evaluation)." };
        var version = new Option<string?>("--version") { Description = "Model version to register (default: UTC time and ONNX hash)." };
        var withhold = new Option<string?>("--withhold")
        {
            Description = "Comma-separated features the model must not learn from (they stay in its input), or 'none'; default: "
                + string.Join(",", TrainerParameters.IdentityAndTimeFeatures) + " (identity and time; docs/synthetic-trial.md).",
        };

        var train = new Command("train",
            "Train the adverse-event model on the offline feature store, evaluate it, export ONNX and register it as staging. " +
            "Settings as the silo's (appsettings.json beside the trainer, environment, or --Section:Key=value): Storage:*, " +
            "ConnectionStrings:Postgres, Predictions:Thresholds:Medium/High.")
        {
            dataDir, from, to, api, apiKey, seed, trees, leaves, learningRate, minLeaf, algorithm, earlyStopping, tune, version, outcome, horizon, noCensor, withhold,
        };
        train.SetAction((result, cancellationToken) => TrainCommand.RunAsync(new TrainSettings(
            result.GetValue(dataDir)!, result.GetValue(from), result.GetValue(to), result.GetValue(api),
            TrainParameters(result),
            result.GetValue(version),
            new LabelDefinition(result.GetValue(outcome)!, result.GetValue(horizon), !result.GetValue(noCensor)),
            result.GetValue(apiKey), result.UnmatchedTokens), result.InvocationConfiguration.Error, cancellationToken));
        train.TreatUnmatchedTokensAsErrors = false;

        var model = new Option<string>("--model") { Description = "The registered model version to evaluate.", Required = true };
        var registryDir = new Option<string?>("--registry-dir") { Description = "The data directory whose registry (models/) holds the model; default: --data-dir." };
        var output = new Option<string?>("--out") { Description = "Folder for the report, metrics.json and plots; default: evaluations/VERSION-FROM-TO under --data-dir." };
        var exportScores = new Option<string?>("--export-scores") { Description = "Also write the hourly scores (patient_id, hour, score, label) to this .csv or .parquet file." };
        var evaluate = new Command("evaluate",
            "Score a registered model on the offline features of a data directory and date range, with the model's own label (outcome, horizon, " +
            "censoring), through the platform's ONNX scoring; write the metrics and plots training writes. Settings as for train.")
        {
            model, dataDir, from, to, registryDir, output, exportScores,
        };
        evaluate.SetAction((result, cancellationToken) => EvaluateCommand.RunAsync(new EvaluateSettings(
            result.GetValue(model)!, result.GetValue(dataDir)!, result.GetValue(from), result.GetValue(to), result.GetValue(registryDir), result.GetValue(output),
            result.GetValue(exportScores), result.UnmatchedTokens), result.InvocationConfiguration.Error, cancellationToken));
        evaluate.TreatUnmatchedTokensAsErrors = false;

        var rows = new Option<int>("--rows") { Description = "Synthetic rows.", DefaultValueFactory = _ => 1_000_000 };
        var features = new Option<int>("--features") { Description = "Features per row.", DefaultValueFactory = _ => 327 };
        var benchmark = new Command("benchmark", "Time training and ONNX export on synthetic rows (default 1,000,000 x 327).") { rows, features, seed, trees, leaves, algorithm };
        benchmark.SetAction(result => TrainingBenchmark.Run(result.GetValue(rows), result.GetValue(features),
            new TrainerParameters(result.GetValue(seed), result.GetValue(trees), result.GetValue(leaves), Algorithm: Algorithm(result.GetValue(algorithm)!))));

        return new RootCommand("The ClinicalTrials offline trainer: the risk of an adverse event (any, serious, or one term) within a horizon.") { train, evaluate, benchmark };
    }

    /// <summary>The trees' settings a parsed <c>train</c> command line asks for.</summary>
    internal static TrainerParameters TrainParameters(ParseResult result) =>
        new(result.GetValue<int>("--seed"), result.GetValue<int>("--trees"), result.GetValue<int>("--leaves"),
            result.GetValue<int>("--min-leaf"), result.GetValue<double>("--learning-rate"), WithheldFeatures: Withheld(result.GetValue<string?>("--withhold")),
            Algorithm: Algorithm(result.GetValue<string>("--algorithm")!), EarlyStoppingRounds: result.GetValue<int>("--early-stopping-rounds"),
            Tuning: result.GetValue<bool>("--tune") ? TuningGrid.Default : null);

    /// <summary>The <c>--algorithm</c> value (one of the names the option accepts).</summary>
    private static TreeAlgorithm Algorithm(string name) =>
        Enum.GetValues<TreeAlgorithm>().Single(a => TrainerParameters.AlgorithmName(a) == name);

    /// <summary>The <c>--withhold</c> list: null (the default set) when not given, empty for <c>none</c>.</summary>
    private static IReadOnlyList<string>? Withheld(string? text) => text?.Trim() switch
    {
        null => null,
        "none" or "" => [],
        var list => [.. list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)],
    };
}
