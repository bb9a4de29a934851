using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Journal;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// The EMR update: every accepted lab result goes to the configured FHIR endpoint as an Observation. The journal is the
/// outbox: lab messages are read from it in commit order after a durable cursor (<see cref="EmrDeliveryLog"/>), so an
/// acknowledged result is never lost; each is sent as a conditional create on its message identifier
/// (<c>If-None-Exist</c>), so the resend of a message a crash interrupted is harmless; transient failures are retried
/// with doubling back-off, and each delivery is audited.
/// </summary>
internal sealed partial class EmrOutbox(
    IOptions<EmrOptions> options, IOptions<JournalOptions> journalOptions, TimeProvider time, ILogger<EmrOutbox> logger, IJournalTail? journal = null)
    : BackgroundService
{
    private const int BatchSize = 256;
    private readonly EmrOptions _options = options.Value;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The cluster's PostgreSQL journal may commit sequences out of order, so it cannot be followed by a cursor.
        if (_options.FhirEndpoint is not null && journal is null)
        {
            throw new InvalidOperationException("Emr:FhirEndpoint is set, but the EMR outbox follows the embedded journal only; the cluster profile does not offer it yet.");
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.FhirEndpoint is null || journal is null)
        {
            return;
        }

        using var log = new EmrDeliveryLog(journalOptions.Value.DataDirectory);
        using var http = new HttpClient { BaseAddress = BaseAddress(_options.FhirEndpoint!), Timeout = _options.RequestTimeout };
        if (_options.BearerToken is { } token)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var deliveredThrough = log.DeliveredThrough();
        while (!stoppingToken.IsCancellationRequested)
        {
            var batch = await journal.ReadAcceptedAsync(PayloadType.LabResults, deliveredThrough, BatchSize);
            foreach (var stored in batch)
            {
                var deliveries = new List<EmrDelivery>();
                if (stored.Parse().Message is { Payload: LabResults labs } message)
                {
                    for (var i = 0; i < labs.Results.Count; i++)
                    {
                        deliveries.Add(await DeliverAsync(http, message, labs.Results[i], i, stoppingToken));
                    }
                }

                log.Record(stored.Sequence, deliveries);
                deliveredThrough = stored.Sequence;
            }

            if (batch.Count < BatchSize)
            {
                await Task.Delay(_options.PollInterval, time, stoppingToken);
            }
        }
    }

    private async Task<EmrDelivery> DeliverAsync(HttpClient http, ClinicalMessage message, LabResult result, int index, CancellationToken stoppingToken)
    {
        var observation = FhirOutbound.LabObservation(message, result, index);
        observation.Id = null; // the EMR assigns its own id; ours travels as the identifier
        var identifier = observation.Identifier[0];
        var body = observation.ToJson();
        var backoff = _options.InitialBackoff;
        for (var attempt = 1; ; attempt++)
        {
            int? status = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "Observation")
                {
                    Content = new StringContent(body, Encoding.UTF8, FhirApi.MediaType),
                };
                request.Headers.TryAddWithoutValidation("If-None-Exist", $"identifier={identifier.System}|{identifier.Value}");
                using var response = await http.SendAsync(request, stoppingToken);
                status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode || !IsTransient(response.StatusCode))
                {
                    var outcome = response.StatusCode switch
                    {
                        HttpStatusCode.Created => "created",
                        _ when response.IsSuccessStatusCode => "exists",
                        _ => "refused",
                    };
                    LogDelivered(logger, message.MessageId, index, outcome, status.Value, attempt);
                    return new EmrDelivery(message.MessageId, index, outcome, status, attempt, time.GetUtcNow());
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                // The endpoint is unreachable or slow: retried like a 5xx.
            }

            LogRetrying(logger, message.MessageId, index, status, attempt, backoff);
            await Task.Delay(backoff, time, stoppingToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    // A base address must end in '/' for "Observation" to be appended to it rather than replace its last segment.
    private static Uri BaseAddress(Uri endpoint) => endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");

    // Identifiers and outcomes only: no patient value is logged.
    [LoggerMessage(Level = LogLevel.Information, Message = "EMR delivery of lab message {MessageId} result {Index}: {Outcome} (HTTP {Status}) after {Attempts} attempt(s)")]
    private static partial void LogDelivered(ILogger logger, Guid messageId, int index, string outcome, int status, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "EMR delivery of lab message {MessageId} result {Index} failed (HTTP {Status}) on attempt {Attempt}; retrying in {Backoff}")]
    private static partial void LogRetrying(ILogger logger, Guid messageId, int index, int? status, int attempt, TimeSpan backoff);
}
