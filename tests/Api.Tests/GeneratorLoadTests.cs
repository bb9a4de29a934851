using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Generator;

namespace ClinicalTrials.Api.Tests;

/// <summary>The generator's load mode reports what the gateway did with each message, and why requests failed.</summary>
/// <remarks>Alone: the generator draws a progress display on the one console, which allows one at a time.</remarks>
[Collection(nameof(GeneratorLoadTests))]
public sealed class GeneratorLoadTests(ClinicalAppFixture app) : IClassFixture<ClinicalAppFixture>
{
    [Fact]
    public async Task Batches_count_the_messages_rejected_inside_them()
    {
        // 601 messages in batches of 200: the last batch holds one message, and is still a batch.
        var (_, run) = await new LoadRunner(app.Http, Settings(app.Http.BaseAddress!), LoadRate.Parse("max")!).MeasureAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, run.FailedRequests);
        Assert.Equal(run.Messages, run.Answered);
        Assert.InRange(run.Rejected, 1, run.Messages / 4);
        Assert.Equal(run.Messages - run.Rejected, run.Accepted);
    }

    [Fact]
    public async Task A_gateway_that_is_down_is_reported_as_such_with_nothing_answered()
    {
        var nowhere = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        using var http = new HttpClient { BaseAddress = nowhere };

        var (_, run) = await new LoadRunner(http, Settings(nowhere), LoadRate.Parse("max")!).MeasureAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, run.Answered);
        Assert.Equal(run.Requests, run.FailedRequests);
        Assert.Contains("Connection refused", Assert.Single(run.Failures).Key, StringComparison.Ordinal);
    }

    private static GeneratorSettings Settings(Uri url) => new(
        url, Count: 601, Interval: new Pause(0, 0), Verbose: false, Seed: 7, Patients: 20, Sites: 2, InvalidShare: 0.1,
        Days: 1, Rate: LoadRate.Parse("max"), BatchSize: 200, Concurrency: 2, Warmup: 0);
}

[CollectionDefinition(nameof(GeneratorLoadTests), DisableParallelization = true)]
public sealed class GeneratorLoadCollection;
