using ClinicalTrials.Silo.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Which tokens no option matched the silo takes as settings, in the forms operators and hosting tools pass them.</summary>
public sealed class SiloCommandLineTests
{
    [Fact]
    public void Configuration_keys_host_settings_and_section_entries_are_settings_with_their_values()
    {
        string[] tokens = ["--Orleans:SiloPort", "11112", "--Cluster:Mode=Postgres", "--Journal=", "--OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317",
            "--environment=Development", "--contentRoot", "/srv/silo"];

        var (settings, problem) = SiloCommandLine.Settings(tokens);

        Assert.Null(problem);
        Assert.Equal(tokens, settings);
    }

    [Theory]
    [InlineData("--dta-dir", "/tmp/x")]
    [InlineData("--dta-dir=/tmp/x")]
    [InlineData("rn-job")]
    [InlineData("--OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")]
    public void Anything_else_is_a_problem_naming_it(params string[] tokens)
    {
        var (settings, problem) = SiloCommandLine.Settings(tokens);

        Assert.Empty(settings);
        Assert.StartsWith($"Unknown argument '{tokens[0]}'", problem, StringComparison.Ordinal);
    }
}
