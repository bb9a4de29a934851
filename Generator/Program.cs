using System.CommandLine;
using ClinicalTrials.Generator;
using ClinicalTrials.Generator.PhysioNet;

var url = new Option<string>("--url") { Description = "Gateway base address.", DefaultValueFactory = _ => "http://localhost:8080" };
var apiKey = new Option<string?>("--api-key")
{
    Description = "The credential sent to the gateway (Authorization: Bearer): an API key (ctk_…, e.g. $(cat data/admin.key)) or a staff token; default: $CLINICAL_API_KEY.",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CLINICAL_API_KEY"),
    Recursive = true,
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

var shift = new Option<double>("--shift")
{
    Description = "Population shift for drift monitoring, 0 to 1: older patients, higher glucose and creatinine, lower haemoglobin (1 = 25 years older).",
    DefaultValueFactory = _ => 0,
};
var conceptDrift = new Option<bool>("--concept-drift")
{
    Description = "Concept drift for monitoring: the deterioration before an adverse event moves vital signs and labs the opposite way, so a model trained without it stops matching the events.",
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

var amqp = new Option<string>("--amqp")
{
    Description = "Publish to an AMQP 1.0 broker (amqp://user:password@host:port, or amqps:// for TLS) instead of HTTP.",
};
var queue = new Option<string>("--queue") { Description = "With --amqp: the queue.", DefaultValueFactory = _ => "clinical-messages" };
var awaitIngest = new Option<bool>("--await-ingest")
{
    Description = "With --amqp: after publishing, poll --url's /api/clinical/stats until the platform has taken every message in; report the end-to-end rate.",
};

var root = new RootCommand("Sends realistic synthetic clinical-trial data to the ClinicalTrials gateway.")
{
    url, apiKey, count, interval, verbose, seed, patients, sites, invalid, days, rate, batch, concurrency, warmup, readFeatures, predict, shift, conceptDrift, kafka, topic,
    followGroup, amqp, queue, awaitIngest,
};
root.SetAction(async (result, cancellationToken) =>
{
    string[] errors =
    [
        .. Uri.TryCreate(result.GetValue(url), UriKind.Absolute, out _) ? [] : new[] { "--url must be an absolute address such as http://localhost:8080." },
        .. result.GetValue(count) > 0 ? [] : new[] { "--count must be positive." },
        .. result.GetValue(invalid) is >= 0 and <= 1 ? [] : new[] { "--invalid-share must be between 0 and 1." },
        .. result.GetValue(shift) is >= 0 and <= 1 ? [] : new[] { "--shift must be between 0 and 1." },
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
        LoadRate.Parse(result.GetValue(rate)), result.GetValue(batch), result.GetValue(concurrency), result.GetValue(warmup), result.GetValue(shift), result.GetValue(conceptDrift));
    if (result.GetValue(kafka) is { } bootstrap)
    {
        return await new KafkaPublisher(settings, bootstrap, result.GetValue(topic)!, result.GetValue(followGroup)).RunAsync(cancellationToken);
    }

    if (result.GetValue(amqp) is { } amqpAddress)
    {
        return await new AmqpPublisher(settings, amqpAddress, result.GetValue(queue)!, result.GetValue(awaitIngest)).RunAsync(cancellationToken);
    }

    using var http = Gateway(settings.Url, result.GetValue(apiKey), TimeSpan.FromSeconds(60));

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
var directory = new Argument<DirectoryInfo>("DIR") { Description = "A directory of challenge files (pNNNNNN.psv), e.g. the unpacked training_setB_half.tgz." };
var importUrl = new Option<string>("--url") { Description = "Gateway base address.", DefaultValueFactory = _ => "http://localhost:8080" };
var importBatch = new Option<int>("--batch-size") { Description = "Messages per batch request (whole stays; at most 10000).", DefaultValueFactory = _ => 5000 };
var importConcurrency = new Option<int>("--concurrency") { Description = "Batch requests in flight at once.", DefaultValueFactory = _ => 2 };
var site = new Option<string>("--site") { Description = "The envelope's site_id.", DefaultValueFactory = _ => PhysioNetTimeline.Default.SiteId };
var phase = new Option<string>("--study-phase") { Description = "The envelope's study_phase.", DefaultValueFactory = _ => PhysioNetTimeline.Default.StudyPhase };
var start = new Option<DateOnly>("--start") { Description = "The earliest ICU admission (UTC date).", DefaultValueFactory = _ => DateOnly.FromDateTime(PhysioNetTimeline.Default.Start.UtcDateTime) };
var spread = new Option<int>("--spread-days") { Description = "Admissions are spread over this many days (record number mod days).", DefaultValueFactory = _ => PhysioNetTimeline.Default.SpreadDays };
var physionet = new Command("physionet", "Import the PhysioNet/CinC Challenge 2019 files of DIR through the ingest path: one timeline per stay, sepsis onset as an adverse event SEPSIS.")
{
    directory, importUrl, importBatch, importConcurrency, site, phase, start, spread,
};
physionet.SetAction(async (result, cancellationToken) =>
{
    var dir = result.GetValue(directory)!;
    if (!dir.Exists || !Uri.TryCreate(result.GetValue(importUrl), UriKind.Absolute, out var address)
        || result.GetValue(importBatch) is < 1 or > 10_000 || result.GetValue(importConcurrency) < 1 || result.GetValue(spread) < 1)
    {
        Console.Error.WriteLine("DIR must exist, --url be absolute, --batch-size 1..10000, --concurrency and --spread-days positive.");
        return 2;
    }

    var timeline = new PhysioNetTimeline(result.GetValue(site)!, result.GetValue(phase)!,
        new DateTimeOffset(result.GetValue(start).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), result.GetValue(spread));
    using var http = Gateway(address, result.GetValue(apiKey), TimeSpan.FromMinutes(5));
    var report = await new PhysioNetImport(http, timeline, result.GetValue(importBatch), result.GetValue(importConcurrency))
        .RunAsync(dir.FullName, new Progress<PhysioNetImportReport>(r => Console.Error.Write($"\r{r.Messages:N0} messages answered")), cancellationToken);
    Console.Error.WriteLine();
    PhysioNetImportSummary.Write(Console.Out, report);
    return report.FailedRequests.Count == 0 && report.UnreadableFiles.Count == 0 ? 0 : 1;
});
root.Add(new Command("import", "Import clinical data sets in other formats.") { physionet });
return await root.Parse(args).InvokeAsync();

// The gateway's client, sending the credential (an API key or a staff token) when one is given.
static HttpClient Gateway(Uri address, string? credential, TimeSpan timeout)
{
    var http = new HttpClient { BaseAddress = address, Timeout = timeout };
    if (credential is { Length: > 0 })
    {
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
    }

    return http;
}
