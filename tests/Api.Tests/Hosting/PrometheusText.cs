using System.Globalization;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>The samples of a Prometheus text exposition (<c>GET /metrics</c>), read as the scraper reads them.</summary>
internal sealed class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public PrometheusText(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var labelsStart = line.IndexOf('{', StringComparison.Ordinal);
            var valueStart = line.LastIndexOf(' ');
            var name = labelsStart >= 0 ? line[..labelsStart] : line[..valueStart];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (labelsStart >= 0)
            {
                var body = line[(labelsStart + 1)..line.LastIndexOf('}')];
                foreach (var pair in body.Split("\","))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals > 0)
                    {
                        labels[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                    }
                }
            }

            var value = line[(valueStart + 1)..];
            _samples.Add((name, labels, value == "+Inf" ? double.PositiveInfinity : double.Parse(value, CultureInfo.InvariantCulture)));
        }
    }

    public string Text { get; }

    public bool Has(string name) => _samples.Any(s => s.Name == name);

    /// <summary>The sum of every sample named <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Label, string Value)[] labels) => _samples
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value))
        .Sum(s => s.Value);

    public static async Task<PrometheusText> ScrapeAsync(HttpClient http)
    {
        var response = await http.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}");
        return new PrometheusText(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
