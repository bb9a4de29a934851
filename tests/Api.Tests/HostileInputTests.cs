using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Validation;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// A generated corpus of hostile requests, each sent twice: never a 5xx, every valid message of a batch stored, a
/// valid message's second send a duplicate, and the counters in <c>/stats</c> what the answers said.
/// </summary>
public sealed class HostileInputTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    private const int Requests = 10_000;

    private static readonly HashSet<string> KnownRules =
        [.. typeof(Rules).GetFields().Select(f => (string)f.GetValue(null)!), "max_items"];

    private readonly HttpClient _http = app.Http;

    [Fact]
    public async Task Hostile_corpus_sent_twice_gets_no_5xx_stores_every_valid_message_once_and_counts_every_answer()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var corpus = new HostileCorpus(seed: 20261201).Generate(Requests);
        Assert.True(corpus.Count >= Requests);
        var before = await StatsAsync(cancellation);
        var watch = Stopwatch.StartNew();

        var first = await SendAllAsync(corpus, cancellation);
        var between = await StatsAsync(cancellation);
        var second = await SendAllAsync(corpus, cancellation);

        var failures = new List<string>();
        var (told, toldFirst) = (new Counts(), new Counts());
        for (var i = 0; i < corpus.Count; i++)
        {
            CheckAnswer(corpus[i], first[i], i, "first", failures, told);
            CheckAnswer(corpus[i], first[i], i, "first", [], toldFirst);
            CheckAnswer(corpus[i], second[i], i, "second", failures, told);
            foreach (var (index, id) in corpus[i].Good)
            {
                Expect(failures, i, corpus[i], $"message {index} ({id}) first", "accepted", StatusOf(corpus[i], first[i], index));
                Expect(failures, i, corpus[i], $"message {index} ({id}) second", "duplicate", StatusOf(corpus[i], second[i], index));
            }
        }

        var after = await StatsAsync(cancellation);
        Assert.True(failures.Count == 0, $"{failures.Count} failures, the first: {string.Join("\n", failures.Take(20))}");
        Assert.Equal(told.Accepted, after.Accepted - before.Accepted);
        // Every invalid body is answered 400 (or "rejected") each time, but quarantined and counted once: the same bytes
        // again, in the second send or twice in the first, are counted as duplicates.
        Assert.Equal(0, after.Rejected - between.Rejected);
        Assert.InRange(between.Rejected - before.Rejected, 1, toldFirst.Rejected);
        Assert.Equal(told.Rejected + told.Duplicates, after.Rejected - before.Rejected + after.Duplicates - before.Duplicates);
        Assert.True(corpus.Sum(r => r.Good.Count) > 1000, "The corpus must hold valid messages to check they are stored.");
        TestContext.Current.SendDiagnosticMessage($"{corpus.Count} requests sent twice in {watch.Elapsed.TotalSeconds:0.0} s: {told}.");
    }

    private sealed record Answer(int Status, string? MediaType, JsonElement Body);

    private sealed class Counts
    {
        public long Accepted { get; set; }

        public long Rejected { get; set; }

        public long Duplicates { get; set; }

        public override string ToString() => $"{Accepted} accepted, {Rejected} rejected, {Duplicates} duplicates";
    }

    private async Task<Answer[]> SendAllAsync(List<HostileRequest> corpus, CancellationToken cancellation)
    {
        var answers = new Answer[corpus.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, corpus.Count), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellation },
            async (i, token) =>
            {
                using var request = corpus[i].ToHttp();
                using var response = await _http.SendAsync(request, token);
                var text = await response.Content.ReadAsStringAsync(token);
                var media = response.Content.Headers.ContentType?.MediaType;
                var body = media is "application/json" or "application/problem+json" ? JsonDocument.Parse(text).RootElement.Clone() : default;
                answers[i] = new Answer((int)response.StatusCode, media, body);
            });
        return answers;
    }

    /// <summary>Checks one answer's shape and adds what it says was stored, rejected or a duplicate to <paramref name="told"/>.</summary>
    private static void CheckAnswer(HostileRequest request, Answer answer, int i, string send, List<string> failures, Counts told)
    {
        void Fail(string what) => failures.Add($"#{i} {request.Category} {request.Method} {request.Path} ({send} send): {what}");

        if (answer.Status >= 500)
        {
            Fail($"answered {answer.Status}: {answer.Body}");
            return;
        }

        // A path Kestrel itself refuses (a NUL in it) never reaches the application; everything else that fails is a problem.
        if (answer.Status >= 400 && answer.MediaType != "application/problem+json" && !request.Path.Contains("%00", StringComparison.Ordinal))
        {
            Fail($"answered {answer.Status} as {answer.MediaType ?? "nothing"}, not problem+json");
        }

        if (answer.Status == 400 && answer.Body.ValueKind == JsonValueKind.Object && answer.Body.TryGetProperty("violations", out var violations))
        {
            foreach (var violation in violations.EnumerateArray())
            {
                if (violation.GetProperty("field").GetString() is not { Length: > 0 } || !KnownRules.Contains(violation.GetProperty("rule").GetString()!))
                {
                    Fail($"violation without a field or a known rule: {violation}");
                }
            }
        }

        if (request.IsSingle)
        {
            switch (answer.Status)
            {
                case 202: told.Accepted++; break;
                case 200: told.Duplicates++; break;
                case 400: told.Rejected++; break;
                case 413: break;
                default: Fail($"answered {answer.Status}"); break;
            }
        }
        else if (request.IsBatch && answer.Status == 200)
        {
            var statuses = answer.Body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()).ToList();
            var (accepted, duplicates, rejected) = (answer.Body.GetProperty("accepted").GetInt32(), answer.Body.GetProperty("duplicates").GetInt32(), answer.Body.GetProperty("rejected").GetInt32());
            if (statuses.Count(s => s == "accepted") != accepted || statuses.Count(s => s == "duplicate") != duplicates || statuses.Count(s => s == "rejected") != rejected
                || accepted + duplicates + rejected != statuses.Count)
            {
                Fail($"totals do not match the results: {answer.Body}");
            }

            told.Accepted += accepted;
            told.Duplicates += duplicates;
            told.Rejected += rejected;
        }
        else if (request.Category.StartsWith("mixed_", StringComparison.Ordinal))
        {
            Fail($"a mixed batch answered {answer.Status}: {answer.Body}");
        }
    }

    private static string? StatusOf(HostileRequest request, Answer answer, int index) => request.IsSingle
        ? answer.Status switch { 202 => "accepted", 200 => "duplicate", _ => $"HTTP {answer.Status}" }
        : answer.Status == 200 ? answer.Body.GetProperty("results")[index].GetProperty("status").GetString() : $"HTTP {answer.Status}";

    private static void Expect(List<string> failures, int i, HostileRequest request, string what, string expected, string? actual)
    {
        if (actual != expected)
        {
            failures.Add($"#{i} {request.Category}: {what} was {actual}, expected {expected}");
        }
    }

    private async Task<(long Accepted, long Rejected, long Duplicates)> StatsAsync(CancellationToken cancellation)
    {
        var stats = await (await _http.GetAsync("/api/clinical/stats", cancellation)).ExpectAsync(200);
        return (stats.GetProperty("accepted").GetInt64(), stats.GetProperty("rejected").GetInt64(), stats.GetProperty("duplicates").GetInt64());
    }
}
