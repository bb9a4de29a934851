using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Journal;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Fhir;

/// <summary>
/// The EMR update: every accepted lab result goes to the configured FHIR endpoint as an Observation. The journal is the
/// outbox: lab messages are read from it in a fixed order after a durable position (<see cref="IEmrOutboxStore"/>), so
/// an acknowledged result is never lost; each is sent as a conditional create on its message identifier
/// (<c>If-None-Exist</c>), so the resend of a message a crash interrupted is harmless; transient failures are retried
/// with doubling back-off, and each delivery is audited. In a cluster one silo delivers at a time, and another takes
/// over when it dies.
/// </summary>
internal sealed partial class EmrOutbox(
    IOptions<EmrOptions> options, IOptions<JournalOptions> journalOptions, IConfiguration configuration, TimeProvider time, ILogger<EmrOutbox> logger,
    IJournalTail? journal = null)
    : BackgroundService
{
    private const int BatchSize = 256;
    private readonly EmrOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.FhirEndpoint is null)
        {
            return;
        }

        await using var store = OpenStore();
        using var http = new HttpClient { BaseAddress = BaseAddress(_options.FhirEndpoint!), Timeout = _options.RequestTimeout };
        if (_options.BearerToken is { } token)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        DateTimeOffset? heldSince = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            int delivered;
            try
            {
                await store.WaitForTurnAsync(stoppingToken);
                var batch = await store.NextAsync(BatchSize, stoppingToken);
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

                    await store.RecordAsync(stored, deliveries, stoppingToken);
                }

                delivered = batch.Count;
                heldSince = WarnWhileHeldBack(store.HeldBack, heldSince);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The database is away, the session broke, or a row cannot be read: the silo stays up, and the outbox
                // starts again from the durable position after a pause (another silo may take the turn meanwhile).
                LogStoreFailed(logger, e.GetType().Name, e.Message, _options.PollInterval);
                await store.ResetAsync();
                delivered = 0;
            }

            if (delivered < BatchSize)
            {
                await Task.Delay(_options.PollInterval, time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Lab results stored but waiting behind an older transaction (docs/fhir.md: an idle-in-transaction session or a
    /// prepared transaction on the cluster's server) are normal for a moment; once they have waited
    /// <see cref="HeldBackWarning"/>, a warning says so every <see cref="HeldBackWarning"/>, so that a stalled EMR feed
    /// is noticed. Returns since when results have been held back, or null.
    /// </summary>
    private DateTimeOffset? WarnWhileHeldBack(long heldBack, DateTimeOffset? heldSince)
    {
        if (heldBack == 0)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var since = heldSince ?? now;
        if (now - since >= HeldBackWarning && now - _heldBackWarned >= HeldBackWarning)
        {
            LogHeldBack(logger, heldBack, now - since);
            _heldBackWarned = now;
        }

        return since;
    }

    /// <summary>How long results may wait behind an older transaction before a warning, and then between warnings.</summary>
    private static readonly TimeSpan HeldBackWarning = TimeSpan.FromMinutes(1);

    private DateTimeOffset _heldBackWarned = DateTimeOffset.MinValue;

    // The embedded journal is followed beside it; without one, the silo is in the cluster profile and follows the
    // cluster database's journal.
    private IEmrOutboxStore OpenStore() => journal is not null
        ? new EmbeddedEmrOutboxStore(journal, journalOptions.Value.DataDirectory)
        : new PostgresEmrOutboxStore(
            configuration.GetConnectionString("Postgres") ?? throw new InvalidOperationException("Emr:FhirEndpoint is set in the cluster profile, but ConnectionStrings:Postgres is not."),
            _options.PollInterval, time);

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "EMR outbox: {Count} stored lab results have waited {Waited} behind an older transaction still running on the cluster database (pg_stat_activity backend_xid, pg_prepared_xacts; docs/fhir.md)")]
    private static partial void LogHeldBack(ILogger logger, long count, TimeSpan waited);

    // The failure's text names tables, sequences and settings, never a value from a message.
    [LoggerMessage(Level = LogLevel.Warning, Message = "EMR outbox: its store failed ({Failure}: {Reason}); trying again in {Wait}")]
    private static partial void LogStoreFailed(ILogger logger, string failure, string reason, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "EMR delivery of lab message {MessageId} result {Index} failed (HTTP {Status}) on attempt {Attempt}; retrying in {Backoff}")]
    private static partial void LogRetrying(ILogger logger, Guid messageId, int index, int? status, int attempt, TimeSpan backoff);
}
