namespace ClinicalTrials.Trainer.Tests;

/// <summary>Which leftover tokens the silo and the trainer take as settings, in the forms operators and hosting tools pass them.</summary>
public sealed class SettingArgumentsTests
{
    [Fact]
    public void For_a_host_configuration_keys_host_settings_and_section_entries_are_settings_with_their_values()
    {
        string[] tokens = ["--Orleans:SiloPort", "11112", "--Cluster:Mode=Postgres", "--Journal=", "--OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317",
            "--environment=Development", "--contentRoot", "/srv/silo", "--ConnectionStrings:Postgres=Host=x"];

        var (settings, problem) = SettingArguments.Split(tokens, host: true);

        Assert.Null(problem);
        Assert.Equal(tokens, settings);
    }

    [Theory]
    [InlineData("--tress=10")]
    [InlineData("--environment=Development")]
    [InlineData("--OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317")]
    public void For_the_trainer_only_section_keys_are_settings(string token)
    {
        var (settings, problem) = SettingArguments.Split(["--Storage:Provider=S3", token]);

        Assert.Empty(settings);
        Assert.StartsWith($"Unknown argument '{token}'", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--dta-dir", "/tmp/x")]
    [InlineData("--dta-dir=/tmp/x")]
    [InlineData("rn-job")]
    [InlineData("--OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]
    [InlineData("--url=http://127.0.0.1:9000")]
    [InlineData("--datadir=/tmp/x")]
    [InlineData("--Journal")]
    public void For_a_host_anything_else_is_a_problem_naming_it(params string[] tokens)
    {
        var (settings, problem) = SettingArguments.Split(tokens, host: true);

        Assert.Empty(settings);
        Assert.StartsWith($"Unknown argument '{tokens[0]}'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_setting_at_the_end_without_its_value_is_a_problem_naming_it()
    {
        var (settings, problem) = SettingArguments.Split(["--Storage:Provider"]);

        Assert.Empty(settings);
        Assert.Equal("The setting '--Storage:Provider' has no value.", problem);
    }
}
