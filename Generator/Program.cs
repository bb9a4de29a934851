using System.CommandLine;
using ClinicalTrials.Generator;

var url = new Option<string>("--url") { Description = "Gateway base address.", DefaultValueFactory = _ => "http://localhost:8080" };
var apiKey = new Option<string?>("--api-key")
{
    Description = "The credential sent to the gateway (Authorization: Bearer): an API key (ctk_…, e.g. $(cat data/admin.key)) or a staff token; default: $CLINICAL_API_KEY.",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CLINICAL_API_KEY"),
};
var count = new Option<int>("--count") { Description = "Messages to send.", DefaultValueFactory = _ => 100 };
var interval = new Option<string>("--interval") { Description = "Seconds between messages, a value or a range such as 2-5 (0 = no pause).", DefaultValueFactory = _ => "2-5" };
var verbose = new Option<bool>("--verbose") { Description = "Print every message and its answer." };
var seed = new Option<int>("--seed") { Description = "Random seed; the same seed sends the same messages.", DefaultValueFactory = _ => 42 };
var patients = new Option<int>("--patients") { Description = "Number of synthetic patients.", DefaultValueFactory = _ => 200 };
var sites = new Option<int>("--sites") { Description = "Number of sites.", DefaultValueFactory = _ => 10 };
var invalid = new Option<double>("--invalid-share") { Description = "Share of deliberately invalid messages, 0 to 1.", DefaultValueFactory = _ => 0.05 };
var days = new Option<double>("--days") { Description = "Spread clinical timestamps evenly over this many past days (0 = now).", DefaultValueFactory = _ => 0 };
var rate = new Option<string>("--rate") { Description = "Load mode: messages per second (e.g. 1000 or 1000/s), or 'max' to send as fast as possible in batches." };
var batch = new Option<int>("--batch-size") { Description = "Load mode: messages per batch request at --rate max (1 = single-message endpoint).", DefaultValueFactory = _ => 1000 };
var concurrency = new Option<int>("--concurrency") { Description = "Load mode: requests in flight at once.", DefaultValueFactory = _ => 4 };
var warmup = new Option<int>("--warmup") { Description = "Load mode: messages sent first, not measured (activates the patients' grains).", DefaultValueFactory = _ => 0 };
var readFeatures = new Option<bool>("--read-features")
{
    Description = "Load mode: read --count patients' features (GET /api/patients/{id}/features) at --rate instead of sending messages; store the patients first with the same --seed and --patients.",
};

var predict = new Option<bool>("--predict")
{
    Description = "Load mode: POST /predict for --count patients at --rate (a model must be in production); store the patients first with the same --seed and --patients.",
};

var kafka = new Option<string>("--kafka") { Description = "Publish to Kafka (bootstrap servers host:port,...) instead of HTTP; keyed by patient_id." };
var topic = new Option<string>("--topic")
{
    Description = "With --kafka: the topic; {type} in it gives one topic per payload type (clinical.{type}).",
    DefaultValueFactory = _ => "clinical-messages",
};
var followGroup = new Option<string>("--follow-group")
{
    Description = "With --kafka: follow this consumer group's committed offsets and report publish-to-committed latency and when all is committed.",
};

var root = new RootCommand("Sends realistic synthetic clinical-trial data to the ClinicalTrials gateway.")
{
    url, apiKey, count, interval, verbose, seed, patients, sites, invalid, days, rate, batch, concurrency, warmup, readFeatures, predict, kafka, topic, followGroup,
};
root.SetAction(async (result, cancellationToken) =>
{
    string[] errors =
    [
        .. Uri.TryCreate(result.GetValue(url), UriKind.Absolute, out _) ? [] : new[] { "--url must be an absolute address such as http://localhost:8080." },
        .. result.GetValue(count) > 0 ? [] : new[] { "--count must be positive." },
        .. result.GetValue(invalid) is >= 0 and <= 1 ? [] : new[] { "--invalid-share must be between 0 and 1." },
        .. result.GetValue(batch) is >= 1 and <= 10_000 ? [] : new[] { "--batch-size must be between 1 and 10000." },
        .. result.GetValue(patients) > 0 && result.GetValue(sites) > 0 ? [] : new[] { "--patients and --sites must be positive." },
        .. result.GetValue(warmup) >= 0 ? [] : new[] { "--warmup must not be negative." },
        .. !result.GetValue(predict) || LoadRate.Parse(result.GetValue(rate))?.PerSecond > 0 ? [] : new[] { "--predict needs a fixed --rate such as 1000/s." },
        .. !result.GetValue(readFeatures) || LoadRate.Parse(result.GetValue(rate))?.PerSecond > 0 ? [] : new[] { "--read-features needs a fixed --rate such as 1000/s." },
    ];
    if (errors.Length > 0)
    {
        Console.Error.WriteLine(string.Join(Environment.NewLine, errors));
        return 2;
    }

    var settings = new GeneratorSettings(
        new Uri(result.GetValue(url)!), result.GetValue(count), Pause.Parse(result.GetValue(interval)!), result.GetValue(verbose),
        result.GetValue(seed), result.GetValue(patients), result.GetValue(sites), result.GetValue(invalid), result.GetValue(days),
        LoadRate.Parse(result.GetValue(rate)), result.GetValue(batch), result.GetValue(concurrency), result.GetValue(warmup));
    if (result.GetValue(kafka) is { } bootstrap)
    {
        return await new KafkaPublisher(settings, bootstrap, result.GetValue(topic)!, result.GetValue(followGroup)).RunAsync(cancellationToken);
    }

    using var http = new HttpClient { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(60) };
    if (result.GetValue(apiKey) is { Length: > 0 } credential)
    {
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
    }

    if (result.GetValue(predict))
    {
        return await new FeatureReadRunner(http, settings, settings.Rate!.PerSecond!.Value, predict: true).RunAsync(cancellationToken);
    }

    if (result.GetValue(readFeatures))
    {
        return await new FeatureReadRunner(http, settings, settings.Rate!.PerSecond!.Value).RunAsync(cancellationToken);
    }

    return settings.Rate is { } load
        ? await new LoadRunner(http, settings, load).RunAsync(cancellationToken)
        : await new TrickleSender(http, settings).RunAsync(cancellationToken);
});
return await root.Parse(args).InvokeAsync();
