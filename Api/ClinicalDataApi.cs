using System.Text;
using System.Text.Json;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Grains.Ingest;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ClinicalTrials.Api;

/// <summary><c>/api/clinical</c>: taking data in, and following it through the pipeline.</summary>
public static class ClinicalDataApi
{
    public const long MaxMessageBytes = 1024 * 1024;
    public const long MaxBatchBytes = 64L * 1024 * 1024;
    public const int MaxBatchMessages = 10_000;

    public static RouteGroupBuilder MapClinicalDataApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(ApiDescription.MessageSchemaPath, () => TypedResults.Json(ClinicalMessageSchema.Build(), contentType: "application/schema+json"))
            .WithTags("Clinical data").WithName("GetClinicalMessageSchema")
            .WithSummary("The clinical message contract as a JSON Schema (draft 2020-12): what POST /api/clinical/data takes.");
        var group = app.MapGroup("/api/clinical").WithTags("Clinical data");
        group.MapPost("/data", PostMessageAsync).WithName("PostClinicalMessage")
            .WithSummary("Store one clinical message; 202 only once it is durable. The body is read as JSON whatever its content type.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapPost("/data/batch", PostBatchAsync).WithName("PostClinicalBatch")
            .WithSummary($"Store up to {MaxBatchMessages} messages (JSON array, or NDJSON with content type application/x-ndjson) with an outcome per message.")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapGet("/messages/{messageId}", GetMessageAsync).WithName("GetClinicalMessage")
            .WithSummary("Where a message is in the pipeline, or why it was rejected.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/stats", GetStatsAsync).WithName("GetIngestStats").WithSummary("Counts of received, accepted, rejected and duplicate messages.");
        return group;
    }

    private static async Task<Results<Accepted<IngestReply>, Ok<IngestReply>, ValidationProblem, ProblemHttpResult>> PostMessageAsync(
        HttpRequest request, ClinicalIngest ingest, TimeProvider time, CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(request, MaxMessageBytes, cancellationToken);
        if (body is null)
        {
            return TooLarge($"A single message may be at most {MaxMessageBytes / 1024} KiB; send large volumes to /api/clinical/data/batch.");
        }

        var receivedAt = time.GetUtcNow();
        var message = ReceivedMessage.Parse(body.Memory, receivedAt);
        if (!SiteScope.MayWrite(request.HttpContext.User, message.Parsed.SiteId))
        {
            return SiteScope.Forbidden(request.HttpContext.User, $"The message is for site '{message.Parsed.SiteId}'; nothing was stored.");
        }

        var result = (await ReceivedMessages.IngestAsync(request.HttpContext, ingest, [message], receivedAt))[0];
        return result.Status switch
        {
            IngestStatus.Accepted => TypedResults.Accepted($"/api/clinical/messages/{result.MessageId}", IngestReply.From(result)),
            IngestStatus.Duplicate => TypedResults.Ok(IngestReply.From(result)),
            IngestStatus.Unavailable => StorageUnavailable(null),
            _ => Invalid(result),
        };
    }

    private static async Task<Results<Ok<BatchReply>, ValidationProblem, ProblemHttpResult>> PostBatchAsync(
        HttpRequest request, ClinicalIngest ingest, TimeProvider time, CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(request, MaxBatchBytes, cancellationToken);
        if (body is null)
        {
            return TooLarge($"A batch may be at most {MaxBatchBytes / (1024 * 1024)} MiB.");
        }

        List<ReadOnlyMemory<byte>> raws;
        try
        {
            raws = BatchSplitter.Split(body.Memory, IsJsonArray(request, body.Memory.Span), MaxBatchMessages);
        }
        catch (JsonException e)
        {
            return BatchProblem(Rules.Json, $"The batch is not a valid JSON array: {e.Message} Send NDJSON to have each line judged on its own.");
        }

        if (raws.Count == 0)
        {
            return BatchProblem(Rules.Required, "The batch holds no messages.");
        }

        if (raws.Count > MaxBatchMessages)
        {
            return BatchProblem("max_items", $"A batch may hold at most {MaxBatchMessages} messages; this one holds more.");
        }

        var receivedAt = time.GetUtcNow();
        var messages = raws.ConvertAll(raw => ReceivedMessage.Parse(raw, receivedAt));
        var user = request.HttpContext.User;
        if (messages.Select((m, i) => SiteScope.MayWrite(user, m.Parsed.SiteId) ? -1 : i).Where(i => i >= 0).ToList() is { Count: > 0 } foreign)
        {
            // Checked for every message before any is stored: a batch is refused whole, never half-written.
            return SiteScope.Forbidden(user, $"{foreign.Count} message(s) of the batch are for another site ('indexes' says which); nothing was stored.", foreign);
        }

        var results = await ReceivedMessages.IngestAsync(request.HttpContext, ingest, messages, receivedAt);
        var items = results.Select((r, i) => new BatchItem(i, r.MessageId, r.Status, r.Violations.Count == 0 ? null : r.Violations)).ToList();
        if (items.Any(r => r.Status == IngestStatus.Unavailable))
        {
            // Some patients' messages may be stored already: say which, so that "duplicate" on the retry is no surprise.
            return StorageUnavailable(items);
        }

        return TypedResults.Ok(new BatchReply(
            items.Count(r => r.Status == IngestStatus.Accepted),
            items.Count(r => r.Status == IngestStatus.Duplicate),
            items.Count(r => r.Status == IngestStatus.Rejected),
            items));
    }

    private static async Task<Results<Ok<MessageTrace>, ProblemHttpResult, ValidationProblem>> GetMessageAsync(
        string messageId, IIngestJournal journal, HttpContext http)
    {
        if (!Guid.TryParse(messageId, out var id))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["message_id"] = ["'message_id' must be a UUID."] }, title: "Invalid message_id");
        }

        if (await journal.FindAsync(id) is not { } record)
        {
            return TypedResults.Problem($"No message with message_id {id} was ever received.", statusCode: StatusCodes.Status404NotFound, title: "Message not found");
        }

        return SiteScope.Allows(http.User, record.SiteId)
            ? TypedResults.Ok(MessageTrace.From(record))
            : SiteScope.Forbidden(http.User, "The message was sent for another site.");
    }

    private static async Task<Ok<IngestStats>> GetStatsAsync(IIngestJournal journal) =>
        TypedResults.Ok(IngestStats.From(await journal.CountersAsync()));

    private static bool IsJsonArray(HttpRequest request, ReadOnlySpan<byte> body)
    {
        var contentType = request.ContentType ?? "";
        if (contentType.Contains("ndjson", StringComparison.OrdinalIgnoreCase) || contentType.Contains("jsonl", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var first = body.TrimStart(" \t\r\n"u8);
        return first.Length > 0 && first[0] == (byte)'[';
    }

    private static ValidationProblem Invalid(IngestResult result)
    {
        var errors = result.Violations
            .GroupBy(v => v.Field)
            .ToDictionary(g => g.Key, g => g.Select(v => $"{v.Rule}: {v.Message}").ToArray());
        var extensions = new Dictionary<string, object?> { ["violations"] = result.Violations };
        if (result.MessageId is { } id)
        {
            extensions["message_id"] = id;
        }

        return TypedResults.ValidationProblem(errors,
            detail: "The message was rejected and kept in quarantine. Correct the fields named in 'errors' and send it again.",
            title: "The clinical message is invalid",
            extensions: extensions);
    }

    private static ValidationProblem BatchProblem(string rule, string message) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["$"] = [$"{rule}: {message}"] },
            title: "The batch is invalid",
            extensions: new Dictionary<string, object?> { ["violations"] = new[] { new Violation("$", rule, message) } });

    /// <summary>503: the journal could not store the message, or some of the batch (<paramref name="items"/> says which).</summary>
    private static ProblemHttpResult StorageUnavailable(IReadOnlyList<BatchItem>? items) =>
        TypedResults.Problem(
            items is null
                ? ClinicalApi.StorageUnavailableDetail
                : "Some messages could not be made durable: 'results' gives each message's status; those 'unavailable' were not stored. Retry the batch later.",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: ClinicalApi.StorageUnavailableTitle,
            extensions: items is null ? null : new Dictionary<string, object?> { ["results"] = items });

    private static ProblemHttpResult TooLarge(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large");
}

/// <summary>A stored message; <see cref="ResultIssues"/> lists lab results rejected or flagged on their own (docs/labs.md).</summary>
public sealed record IngestReply(Guid MessageId, IngestStatus Status, IReadOnlyList<Violation>? ResultIssues)
{
    public static IngestReply From(IngestResult result) =>
        new(result.MessageId!.Value, result.Status, result.Violations.Count == 0 ? null : result.Violations);
}

public sealed record BatchItem(int Index, Guid? MessageId, IngestStatus Status, IReadOnlyList<Violation>? Errors);

public sealed record BatchReply(int Accepted, int Duplicates, int Rejected, IReadOnlyList<BatchItem> Results);

/// <summary>
/// Where one message is: its bronze file when accepted (with the issues of single lab results, if any), its quarantine
/// file and violations when rejected.
/// </summary>
public sealed record MessageTrace(
    Guid MessageId,
    IngestStatus Status,
    string? PatientId,
    string? SiteId,
    string? PayloadType,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? Timestamp,
    string? BronzeLocation,
    string? QuarantineLocation,
    IReadOnlyList<Violation>? Violations)
{
    public static MessageTrace From(MessageRecord record)
    {
        var accepted = record.Status == IngestStatus.Accepted;
        return new MessageTrace(record.MessageId, record.Status, record.PatientId, record.SiteId, record.PayloadType,
            record.ReceivedAt, record.EventTime, accepted ? record.Location : null, accepted ? null : record.Location,
            record.Violations.Count == 0 ? null : record.Violations);
    }
}

/// <summary>Ingest counts; <see cref="SuccessRate"/> is accepted / total_received.</summary>
public sealed record IngestStats(
    long TotalReceived,
    long Accepted,
    long Rejected,
    long Duplicates,
    long FlaggedValues,
    double SuccessRate,
    IReadOnlyDictionary<string, OutcomeCounts> ByType,
    IReadOnlyDictionary<string, OutcomeCounts> BySite)
{
    public static IngestStats From(CounterSnapshot snapshot)
    {
        long Sum(string outcome) => snapshot.Counters.Where(c => c.Outcome == outcome).Sum(c => c.Count);
        var accepted = Sum("accepted");
        var total = accepted + Sum("rejected") + Sum("duplicate");
        return new IngestStats(
            total,
            accepted,
            Sum("rejected"),
            Sum("duplicate"),
            Sum("flagged"),
            total == 0 ? 0 : Math.Round((double)accepted / total, 4),
            Group(snapshot.Counters, c => c.PayloadType),
            Group(snapshot.Counters, c => c.SiteId));
    }

    private static SortedDictionary<string, OutcomeCounts> Group(IEnumerable<CounterRow> rows, Func<CounterRow, string> key) =>
        new(rows.GroupBy(key).ToDictionary(g => g.Key, g => new OutcomeCounts(
            g.Where(c => c.Outcome == "accepted").Sum(c => c.Count),
            g.Where(c => c.Outcome == "rejected").Sum(c => c.Count),
            g.Where(c => c.Outcome == "duplicate").Sum(c => c.Count))), StringComparer.Ordinal);
}

public sealed record OutcomeCounts(long Accepted, long Rejected, long Duplicates);
