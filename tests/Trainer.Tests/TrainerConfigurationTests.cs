using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Trainer.Training;
using Microsoft.Extensions.Configuration;

namespace ClinicalTrials.Trainer.Tests;

public sealed class TrainerConfigurationTests
{
    [Fact]
    public void Without_settings_the_trainer_takes_the_silos_defaults()
    {
        var (configuration, problem) = TrainerConfiguration.Bind(Settings());

        Assert.Null(problem);
        Assert.Equal(StorageProvider.Local, configuration!.Storage.Provider);
        Assert.Equal((new RiskThresholds().Medium, new RiskThresholds().High), (configuration.Thresholds.Medium, configuration.Thresholds.High));
        Assert.Null(configuration.PostgresConnectionString);
    }

    [Fact]
    public void Settings_bind_into_the_silos_option_types()
    {
        var (configuration, problem) = TrainerConfiguration.Bind(Settings(
            ("Storage:Provider", "s3"), ("Storage:S3:ServiceUrl", "http://127.0.0.1:9000"), ("Storage:S3:Bucket", "lake"),
            ("Storage:S3:AccessKey", "a"), ("Storage:S3:SecretKey", "b"),
            ("Predictions:Thresholds:Medium", "0.05"), ("Predictions:Thresholds:High", "0.2"),
            ("ConnectionStrings:Postgres", "Host=db")));

        Assert.Null(problem);
        Assert.Equal((StorageProvider.S3, "lake"), (configuration!.Storage.Provider, configuration.Storage.S3.Bucket));
        Assert.Equal((0.05, 0.2), (configuration.Thresholds.Medium, configuration.Thresholds.High));
        Assert.Equal("Host=db", configuration.PostgresConnectionString);
    }

    [Theory]
    [InlineData("Predictions:Thresholds:Medium", "0,3", "Predictions:Thresholds:Medium")]
    [InlineData("Predictions:Thresholds:High", "high", "Predictions:Thresholds:High")]
    [InlineData("Storage:Provider", "Azure", "Storage:Provider")]
    [InlineData("Storage:S3:Bukcet", "lake", "Bukcet")]
    [InlineData("Predictions:Thresholds:Medium", "0.7", "Medium < High")]
    [InlineData("Storage:Provider", "S3", "Storage:S3:ServiceUrl")]
    public void A_malformed_setting_is_a_problem_naming_it_never_a_default(string key, string value, string named)
    {
        var (configuration, problem) = TrainerConfiguration.Bind(Settings((key, value)));

        Assert.Null(configuration);
        Assert.Contains(named, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem!);
    }

    [Fact]
    public void The_command_line_overrides_appsettings_json()
    {
        using var directory = new DataDirectory();
        File.WriteAllText(Path.Combine(directory.Path, TrainerConfiguration.AppSettingsFile),
            """{ "Predictions": { "Thresholds": { "Medium": 0.1, "High": 0.5 } } }""");

        var (configuration, _) = TrainerConfiguration.Bind(TrainerConfiguration.Read(["--Predictions:Thresholds:High", "0.4"], directory.Path));

        Assert.Equal((0.1, 0.4), (configuration!.Thresholds.Medium, configuration.Thresholds.High));
    }

    [Fact]
    public async Task Train_with_a_malformed_threshold_exits_2_with_one_line_before_reading_any_data()
    {
        using var data = new DataDirectory();
        var error = new StringWriter();

        var exit = await TrainerCommandLine.Create()
            .Parse(["train", "--data-dir", data.Path, "--Predictions:Thresholds:Medium=0,3"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Error = error }, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.Equal("Failed to convert configuration value '0,3' at 'Predictions:Thresholds:Medium' to type 'System.Double'.", error.ToString().TrimEnd());
        Assert.Empty(Directory.EnumerateFileSystemEntries(data.Path));
    }

    [Fact]
    public async Task Train_refuses_an_unknown_option_instead_of_ignoring_it()
    {
        using var data = new DataDirectory();
        var error = new StringWriter();

        var exit = await TrainerCommandLine.Create()
            .Parse(["train", "--data-dir", data.Path, "--tress", "10"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Error = error }, TestContext.Current.CancellationToken);

        Assert.Equal(2, exit);
        Assert.StartsWith("Unknown argument '--tress'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Train_options_choose_the_algorithm_early_stopping_and_tuning()
    {
        var defaults = TrainerCommandLine.TrainParameters(TrainerCommandLine.Create().Parse(["train"]));
        var chosen = TrainerCommandLine.TrainParameters(TrainerCommandLine.Create()
            .Parse(["train", "--algorithm", "lightgbm", "--early-stopping-rounds", "7", "--tune", "--trees", "50"]));

        Assert.Equal((TreeAlgorithm.FastTree, 20, null, 100), (defaults.Algorithm, defaults.EarlyStoppingRounds, defaults.Tuning, defaults.Trees));
        Assert.Equal((TreeAlgorithm.LightGbm, 7, TuningGrid.Default, 50), (chosen.Algorithm, chosen.EarlyStoppingRounds, chosen.Tuning, chosen.Trees));
        Assert.Equal(12, chosen.Tuning!.Candidates(chosen).Count);
        Assert.All(chosen.Tuning.Candidates(chosen), c => Assert.Equal((TreeAlgorithm.LightGbm, 7, null), (c.Algorithm, c.EarlyStoppingRounds, c.Tuning)));
    }

    [Fact]
    public async Task An_unknown_algorithm_is_refused_naming_the_choices()
    {
        using var data = new DataDirectory();
        var error = new StringWriter();

        var exit = await TrainerCommandLine.Create()
            .Parse(["train", "--data-dir", data.Path, "--algorithm", "xgboost"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Error = error }, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, exit);
        Assert.Contains("xgboost", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("fasttree", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(data.Path));
    }

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
}
