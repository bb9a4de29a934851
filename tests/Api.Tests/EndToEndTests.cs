using System.Net.Http.Json;
using System.Text;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Generator;
using ClinicalTrials.Trainer;
using ClinicalTrials.Trainer.Training;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// The documented sequence from an empty data directory: generated messages in over HTTP, the lake jobs (bronze to
/// silver, offline features), the trainer's <c>train</c> command reading the offline feature store with <c>--api</c>
/// (registration over HTTP as staging), promotion, predictions, the log and the run record.
/// </summary>
public sealed class EndToEndTests
{
    [Fact]
    public async Task From_an_empty_data_directory_to_logged_predictions()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);

        // 1. Generate: 200 patients' messages spread over the past 4 days, as the generator's --days mode sends them.
        var trial = new SyntheticTrial(seed: 99, patients: 200, sites: 5, invalidShare: 0);
        var start = DateTimeOffset.UtcNow.AddDays(-4);
        var bodies = Enumerable.Range(0, 8000).Select(i => trial.Next(start + TimeSpan.FromDays(4) / 8000 * i, out _).ToJsonString()).ToList();
        foreach (var chunk in bodies.Chunk(2000))
        {
            var response = await app.Http.PostAsync("/api/clinical/data/batch",
                new StringContent("[" + string.Join(",", chunk) + "]", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
            await response.ExpectAsync(200);
        }

        // 2. The lake jobs: bronze to silver, then the offline feature store.
        foreach (var job in new[] { "bronze-to-silver", "offline-features" })
        {
            var run = await (await app.Http.PostAsync($"/api/pipeline/jobs/{job}/run", null, TestContext.Current.CancellationToken)).ExpectAsync(200);
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
        }

        // 3. Train on the offline feature store and register with the running platform.
        var exit = await TrainCommand.RunAsync(new TrainSettings(data.Path, null, null, app.Http.BaseAddress!.ToString(),
            new TrainerParameters(Trees: 30, Leaves: 15), "e2e-1", ApiKey: TestCredentials.AdminKey), TestContext.Current.CancellationToken);
        Assert.Equal(0, exit);

        var models = await (await app.Http.GetAsync("/api/models", TestContext.Current.CancellationToken)).ExpectAsync(200);
        var registered = Assert.Single(models.EnumerateArray());
        Assert.Equal(("e2e-1", "staging"), (registered.GetProperty("version").GetString(), registered.GetProperty("stage").GetString()));

        // 4. Promote and predict.
        await (await app.Http.PromoteAsync("e2e-1")).ExpectAsync(200);
        var patients = trial.PatientIds.Take(20).ToArray();
        var batch = await (await app.Http.PostAsJsonAsync("/predict/batch", new { patient_ids = patients }, TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal(20, batch.GetProperty("predictions").GetArrayLength());
        var single = await (await app.Http.PredictAsync(patients[0])).ExpectAsync(200);
        Assert.Equal("e2e-1", single.GetProperty("model_version").GetString());

        // 5. The prediction was logged and the run recorded, in the same database.
        Assert.Equal(2, (await PredictionLogTests.LoggedAsync(app.Http, patients[0], 2)).Count);
        var runs = await (await app.Http.GetAsync("/api/models/runs", TestContext.Current.CancellationToken)).ExpectAsync(200);
        var training = Assert.Single(runs.EnumerateArray());
        Assert.Equal(("succeeded", "e2e-1"), (training.GetProperty("status").GetString(), training.GetProperty("model_version").GetString()));
        Assert.StartsWith("offline feature store", training.GetProperty("tags").GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.True(training.GetProperty("artifacts").TryGetProperty("model.onnx", out _));
    }
}
