using System.Net.Http.Headers;
using System.Text;
using Spectre.Console;

namespace ClinicalTrials.Generator;

/// <summary>Sends messages one at a time with a pause between them, like a site's EDC system would.</summary>
public sealed class TrickleSender(HttpClient http, GeneratorSettings settings)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var trial = settings.NewTrial();
        var pauses = new Random(settings.Seed);
        var start = DateTimeOffset.UtcNow;
        var answers = new Dictionary<int, int>();
        for (var i = 0; i < settings.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            var message = trial.Next(settings.ClinicalTime(i, start), out var valid);
            using var content = new StringContent(message.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            int status;
            try
            {
                using var response = await http.PostAsync("/api/clinical/data", content, cancellationToken);
                status = (int)response.StatusCode;
                if (settings.Verbose)
                {
                    var type = message.Select(p => p.Key).Last();
                    AnsiConsole.MarkupLineInterpolated($"[grey]{i + 1,6}[/] {type,-22} {(valid ? "valid  " : "invalid")} -> [bold]{status}[/] {await response.Content.ReadAsStringAsync(cancellationToken)}");
                }
            }
            catch (HttpRequestException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Request {i + 1} failed: {e.Message}[/]");
                status = 0;
            }

            answers[status] = answers.GetValueOrDefault(status) + 1;
            if (i + 1 < settings.Count)
            {
                await Task.Delay(settings.Interval.Next(pauses), cancellationToken);
            }
        }

        AnsiConsole.MarkupLineInterpolated($"Sent {answers.Values.Sum()} messages: {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{(a.Key == 0 ? "no answer" : a.Key)} x{a.Value}"))}");
        return answers.ContainsKey(0) || answers.Keys.Any(s => s >= 500) ? 1 : 0;
    }
}
