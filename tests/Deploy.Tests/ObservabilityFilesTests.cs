using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using ClinicalTrials.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>
/// deploy/prometheus and deploy/grafana checked as their tools check them (promtool; Grafana's dashboard model), and
/// against the platform: every clinical metric they use is one the silo exports.
/// </summary>
public sealed partial class ObservabilityFilesTests
{
    private const string Prometheus = "deploy/prometheus";
    private const string Dashboard = "deploy/grafana/dashboards/clinicaltrials.json";

    [Theory]
    [InlineData("check", "config", "prometheus.yml")]
    [InlineData("check", "rules", "alerts.yml")]
    [InlineData("test", "rules", "alerts.test.yml")]
    public async Task Promtool_accepts_the_configuration_the_rules_and_the_alert_tests(string command, string what, string file)
    {
        var (exitCode, output) = await PromtoolAsync(command, what, file);

        Assert.True(exitCode == 0, $"promtool {command} {what} {file} exited {exitCode}:\n{output}");
    }

    [Fact]
    public void Every_clinical_metric_of_the_alerts_and_the_dashboard_is_exported_by_the_platform()
    {
        var exported = ExportedClinicalSeries();
        var used = ClinicalSeries().Matches(Repository.Read($"{Prometheus}/alerts.yml") + Repository.Read(Dashboard))
            .Select(m => m.Value).ToHashSet();

        Assert.NotEmpty(used);
        Assert.Empty(used.Except(exported));
        // Each of the platform's own instruments is on the dashboard.
        var dashboard = Repository.Read(Dashboard);
        var instruments = exported.Select(name => Regex.Replace(name, "_(bucket|sum|count)$", "")).Distinct();
        Assert.All(instruments, name => Assert.Contains(name, dashboard, StringComparison.Ordinal));
    }

    [Fact]
    public void The_dashboard_loads_with_unique_panels_in_the_grid_each_with_a_query_on_the_provisioned_data_source()
    {
        using var dashboard = JsonDocument.Parse(Repository.Read(Dashboard));
        var root = dashboard.RootElement;
        Assert.False(string.IsNullOrEmpty(root.GetProperty("uid").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.True(root.GetProperty("schemaVersion").GetInt32() >= 36);

        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.Equal(["Ingest", "Journal", "Grains and features", "Lake jobs", "Serving", "Model"],
            panels.Where(p => p.GetProperty("type").GetString() == "row").Select(p => p.GetProperty("title").GetString()));
        foreach (var panel in panels)
        {
            var grid = panel.GetProperty("gridPos");
            Assert.InRange(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32(), 1, 24);
            if (panel.GetProperty("type").GetString() == "row")
            {
                continue;
            }

            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString())));
            Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
        }

        var provisioned = Yaml.Documents(Repository.Read("deploy/grafana/provisioning/datasources/prometheus.yml")).Single().List("datasources").Single();
        var variable = root.GetProperty("templating").GetProperty("list").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "datasource");
        Assert.Equal(provisioned.Text("uid"), variable.GetProperty("current").GetProperty("value").GetString());
        Assert.Equal(provisioned.Text("type"), variable.GetProperty("query").GetString());
    }

    /// <summary>
    /// The series names of <see cref="ClinicalMetrics"/>' instruments as the OpenTelemetry Prometheus exporter writes them
    /// (dots to underscores, the unit "s" as _seconds, _total on counters, histograms as _bucket/_sum/_count; the
    /// Api tests' MetricsTests read them from a real /metrics).
    /// </summary>
    private static HashSet<string> ExportedClinicalSeries()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == ClinicalMetrics.MeterName)
                {
                    instruments.Add(instrument);
                }
            },
        };
        listener.Start();
        _ = new ClinicalMetrics(services.GetRequiredService<IMeterFactory>());

        var names = new HashSet<string>();
        foreach (var instrument in instruments)
        {
            var name = instrument.Name.Replace('.', '_') + (instrument.Unit == "s" ? "_seconds" : "");
            var type = instrument.GetType().GetGenericTypeDefinition();
            if (type == typeof(Histogram<>))
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
            else
            {
                names.Add(type == typeof(Counter<>) ? name + "_total" : name);
            }
        }

        return names;
    }

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool") { WorkingDirectory = Repository.PathOf(Prometheus), RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("promtool is not installed: run scripts/servers.sh (it installs Debian's prometheus package).", e);
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var errors = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output + await errors);
        }
    }

    [GeneratedRegex(@"\bclinical_[a-z_]+\b")]
    private static partial Regex ClinicalSeries();
}
