using System.Net.Http.Json;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Monitoring;

/// <summary>
/// Posts a run's alerts to <see cref="MonitoringOptions.AlertWebhook"/> as JSON (<c>run_id</c>, <c>started_at</c>,
/// <c>alerts</c>), retrying a failure or a non-2xx answer with doubling waits up to
/// <see cref="MonitoringOptions.WebhookAttempts"/> times. The payload names model versions, features and figures only,
/// never a patient.
/// </summary>
public sealed partial class AlertWebhook(IOptions<MonitoringOptions> options, ILogger<AlertWebhook> logger)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The delivery, or null when no webhook is configured or the run raised no alert.</summary>
    public async Task<AlertDelivery?> DeliverAsync(MonitoringReport report, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.AlertWebhook is not { } url || report.Alerts.Count == 0)
        {
            return null;
        }

        var target = url.GetLeftPart(UriPartial.Path);
        using var http = new HttpClient { Timeout = RequestTimeout };
        var payload = new { run_id = report.RunId, started_at = report.StartedAt, alerts = report.Alerts };
        var delay = settings.WebhookRetryDelay;
        int? status = null;
        string? error = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await http.PostAsJsonAsync(url, payload, ModelJson.Options, cancellationToken);
                status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    return new AlertDelivery(target, true, attempt, status, null);
                }

                error = $"answered {status}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                (status, error) = (null, e.Message);
            }

            LogAttemptFailed(logger, target, attempt, error);
            if (attempt == settings.WebhookAttempts)
            {
                return new AlertDelivery(target, false, attempt, status, error);
            }

            await Task.Delay(delay, cancellationToken);
            delay *= 2;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Monitoring alert webhook {Target}: attempt {Attempt} failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string target, int attempt, string? error);
}
