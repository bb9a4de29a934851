using System.Collections;
using System.Diagnostics;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Grains.Telemetry;
using OpenTelemetry.Trace;

namespace ClinicalTrials.Api.Tests;

/// <summary>With an OTLP endpoint set, one request is one trace: gateway, grain calls and the journal commit.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task One_request_is_one_trace_through_the_gateway_the_grain_calls_and_the_journal_commit()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var data = new DataDirectory();
        var spans = new Spans();
        // Nothing listens there: the exporter's failures are its own; the test reads the spans in memory beside it.
        await using var app = await ClinicalApp.StartAsync(data.Path,
            new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{FreePorts.Next()}" },
            services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/clinical/data") { Content = Json(Vitals()) };
        request.Headers.Add("traceparent", $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        await (await app.Http.SendAsync(request, cancellation)).ExpectAsync(202);

        var trace = await Eventually.UntilAsync(() =>
        {
            var ofRequest = spans.Snapshot().Where(s => s.TraceId == traceId).ToList();
            return Task.FromResult(ofRequest.Any(s => s.Source.Name == "Microsoft.AspNetCore") && ofRequest.Any(s => s.Source.Name == ClinicalTracing.SourceName) ? ofRequest : null);
        }, TimeSpan.FromSeconds(10), "the request's server and journal spans");

        var server = Assert.Single(trace, s => s.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal("/api/clinical/data", server.GetTagItem("http.route"));
        Assert.Contains(trace, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.Contains("Patient", StringComparison.OrdinalIgnoreCase));
        var commit = Assert.Single(trace, s => s.Source.Name == ClinicalTracing.SourceName);
        Assert.Equal("journal commit", commit.DisplayName);
        Assert.Equal(1, commit.GetTagItem("clinical.entries"));
        // The commit hangs under the request: its chain of parents reaches the server span.
        var byId = trace.ToDictionary(s => s.SpanId);
        var parent = commit.ParentSpanId;
        while (parent != server.SpanId && byId.TryGetValue(parent, out var span))
        {
            parent = span.ParentSpanId;
        }

        Assert.Equal(server.SpanId, parent);
    }

    /// <summary>The exporter adds ended spans from the threads that end them; the test reads a copy.</summary>
    private sealed class Spans : ICollection<Activity>
    {
        private readonly List<Activity> _spans = [];

        public int Count => Snapshot().Length;

        public bool IsReadOnly => false;

        public Activity[] Snapshot()
        {
            lock (_spans)
            {
                return [.. _spans];
            }
        }

        public void Add(Activity item)
        {
            lock (_spans)
            {
                _spans.Add(item);
            }
        }

        public void Clear()
        {
            lock (_spans)
            {
                _spans.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_spans)
            {
                return _spans.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
