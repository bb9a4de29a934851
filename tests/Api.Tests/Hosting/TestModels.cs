using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Domain.Validation;
using ClinicalTrials.Generator;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Api.Tests.Hosting;

/// <summary>
/// A small synthetic trial (the generator's, with its deterioration signal) and two models trained on it once per test
/// run: <see cref="ModelA"/> and <see cref="ModelB"/> (another seed). A test copies them into its app's data directory
/// and posts the trial's messages, so each app has patients to score and models to promote.
/// </summary>
internal static class TestModels
{
    public const string ModelA = "model-a";
    public const string ModelB = "model-b";
    public const int Patients = 40;
    private const int TrialMessages = 3000;
    public const int Days = 3;

    /// <summary>The first day of the trials, once per test run: <see cref="Days"/> before the day the run began (UTC).</summary>
    public static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-Days), TimeSpan.Zero);

    private static readonly Lazy<Task<Trial>> Shared = new(CreateAsync);

    /// <summary>The trial's messages (JSON bodies) and the folder holding the trained models.</summary>
    public sealed record Trial(IReadOnlyList<string> Bodies, IReadOnlyList<string> PatientIds, string ModelsRoot);

    public static Task<Trial> GetAsync() => Shared.Value;

    /// <summary>Posts every message of the trial (batches of 1000), then copies the given models into the app's data directory.</summary>
    public static async Task<Trial> LoadIntoAsync(HttpClient http, string dataDirectory, params string[] models)
    {
        var trial = await GetAsync();
        await PostAsync(http, trial.Bodies);
        foreach (var model in models)
        {
            CopyModel(trial, model, dataDirectory);
        }

        return trial;
    }

    /// <summary>Posts messages through batch ingest, 1000 to a batch; each batch must be accepted.</summary>
    public static async Task PostAsync(HttpClient http, IEnumerable<string> bodies)
    {
        foreach (var chunk in bodies.Chunk(1000))
        {
            var response = await http.PostAsync("/api/clinical/data/batch",
                new StringContent("[" + string.Join(",", chunk) + "]", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }
    }

    /// <summary>
    /// <paramref name="count"/> messages of <paramref name="generator"/> spread evenly over <paramref name="days"/> days
    /// from <paramref name="start"/>, each with its clinical time.
    /// </summary>
    public static IEnumerable<(DateTimeOffset At, string Body)> Messages(SyntheticTrial generator, int count, DateTimeOffset start, int days)
    {
        var step = TimeSpan.FromDays(days) / count;
        for (var i = 0; i < count; i++)
        {
            var at = start + step * i;
            yield return (at, generator.Next(at, out _).ToJsonString());
        }
    }

    /// <summary>Copies a trained model's folder into a data directory's model store, optionally under another version.</summary>
    public static void CopyModel(Trial trial, string model, string dataDirectory, string? asVersion = null, Func<ModelMetadata, ModelMetadata>? change = null)
    {
        var source = ModelArtifacts.Folder(trial.ModelsRoot, model);
        var target = ModelArtifacts.Folder(dataDirectory, asVersion ?? model);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source).Where(f => Path.GetFileName(f) != ModelArtifacts.Metadata))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }

        var metadata = ModelJson.ReadMetadata(File.ReadAllBytes(Path.Combine(source, ModelArtifacts.Metadata))) with { Version = asVersion ?? model };
        // Written whole, then renamed into place, as the model store writes it: the registry adopts a folder once its
        // metadata is there, and one read half-written would keep the version out until the registry looks again.
        var scratch = Path.Combine(target, $"{ModelArtifacts.Metadata}.tmp");
        File.WriteAllBytes(scratch, ModelJson.Write(change is null ? metadata : change(metadata)));
        File.Move(scratch, Path.Combine(target, ModelArtifacts.Metadata), overwrite: true);
    }

    private static async Task<Trial> CreateAsync()
    {
        // Enriched (eight times the realistic event rate): 40 patients over 3 days hold too few events to train on otherwise.
        var generator = new SyntheticTrial(23, Patients, sites: 4, invalidShare: 0, eventRate: 8);
        var bodies = new List<string>(TrialMessages);
        var histories = new Dictionary<string, List<ClinicalMessage>>(StringComparer.Ordinal);
        foreach (var (at, body) in Messages(generator, TrialMessages, Start, Days))
        {
            bodies.Add(body);
            var message = ClinicalMessageParser.Parse(Encoding.UTF8.GetBytes(body), at.AddSeconds(1)).Message!;
            if (!histories.TryGetValue(message.PatientId, out var list))
            {
                histories[message.PatientId] = list = [];
            }

            list.Add(message);
        }

        var root = Directory.CreateTempSubdirectory("clinical-models-").FullName;
        var rows = new ReplayedHistories("synthetic trial", histories.ToDictionary(h => h.Key, h => (IReadOnlyList<ClinicalMessage>)h.Value, StringComparer.Ordinal));
        var from = DateOnly.FromDateTime(Start.UtcDateTime);
        var to = from.AddDays(Days);
        foreach (var (version, seed) in new[] { (ModelA, 1), (ModelB, 2) })
        {
            var job = new TrainingJob(rows, root, new TrainerParameters(Seed: seed, Trees: 20, Leaves: 15, MinimumExamplesPerLeaf: 10),
                new RiskThresholds(), new StorageRegistrar(new ClinicalTrials.Lake.Storage.LocalLakeStorage(root)), new SqliteTrackingStore(Path.Combine(root, TrackingStore.SqliteFileName)));
            await job.RunAsync(from, to, version, CancellationToken.None);
        }

        return new Trial(bodies, [.. histories.Keys.Order(StringComparer.Ordinal)], root);
    }
}

/// <summary>Small HTTP conveniences for the prediction tests.</summary>
internal static class PredictionRequests
{
    public static Task<HttpResponseMessage> PredictAsync(this HttpClient http, string patientId) =>
        http.PostAsJsonAsync("/predict", new JsonObject { ["patient_id"] = patientId }, TestContext.Current.CancellationToken);

    public static Task<HttpResponseMessage> PromoteAsync(this HttpClient http, string version) =>
        http.PostAsync($"/api/models/{version}/promote", null, TestContext.Current.CancellationToken);
}
