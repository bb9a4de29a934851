using System.Collections.Concurrent;
using ClinicalTrials.Api.Tests.Hosting;

namespace ClinicalTrials.Api.Tests;

/// <summary>Promotion, rollback and refusal, each on an app of its own (they change what is in production).</summary>
public sealed class ModelRegistryTests
{
    [Fact]
    public async Task Without_a_production_model_predict_is_503_with_a_clear_message()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA);

        var body = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(503);

        Assert.Contains("No model is in production", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await (await app.Http.PromoteAsync("no-such-model")).ExpectAsync(404);
        await (await app.Http.PostAsync("/api/models/rollback", null, TestContext.Current.CancellationToken)).ExpectAsync(409);
    }

    [Fact]
    public async Task Promotion_swaps_the_model_under_load_without_a_failed_prediction_and_rollback_returns()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA, TestModels.ModelB);
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);

        var failures = new ConcurrentBag<string>();
        var versions = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var response = await app.Http.PredictAsync(trial.PatientIds[(worker * 7 + i) % trial.PatientIds.Count]);
                if ((int)response.StatusCode != 200)
                {
                    failures.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    continue;
                }

                var body = await response.ReadJsonAsync();
                versions.AddOrUpdate(body.GetProperty("model_version").GetString()!, 1, (_, n) => n + 1);
            }
        })).ToArray();

        await Task.Delay(300, TestContext.Current.CancellationToken);
        var promoted = await (await app.Http.PromoteAsync(TestModels.ModelB)).ExpectAsync(200);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        var rolledBack = await (await app.Http.PostAsync("/api/models/rollback", null, TestContext.Current.CancellationToken)).ExpectAsync(200);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.Empty(failures);
        Assert.Equal("production", promoted.GetProperty("stage").GetString());
        Assert.Equal(TestModels.ModelA, rolledBack.GetProperty("version").GetString());
        Assert.True(versions.GetValueOrDefault(TestModels.ModelA) > 0 && versions.GetValueOrDefault(TestModels.ModelB) > 0,
            $"Both models should have answered: {string.Join(", ", versions)}");
        var models = (await (await app.Http.GetAsync("/api/models", TestContext.Current.CancellationToken)).ExpectAsync(200))
            .EnumerateArray().ToDictionary(m => m.GetProperty("version").GetString()!, m => m.GetProperty("stage").GetString());
        Assert.Equal("production", models[TestModels.ModelA]);
        Assert.Equal("staging", models[TestModels.ModelB]);
        var after = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        Assert.Equal(TestModels.ModelA, after.GetProperty("model_version").GetString());
        var model = (await (await app.Http.GetAsync("/api/clinical/health", TestContext.Current.CancellationToken)).ExpectAsync(200))
            .GetProperty("components").GetProperty("model");
        Assert.Equal("healthy", model.GetProperty("status").GetString());
        Assert.StartsWith($"Serving {TestModels.ModelA} ", model.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_of_another_feature_version_is_refused_and_production_is_unchanged()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path, TestModels.ModelA);
        TestModels.CopyModel(trial, TestModels.ModelB, data.Path, "model-old-features", m => m with { FeatureVersion = "v1-00000000" });
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);

        var refused = await (await app.Http.PromoteAsync("model-old-features")).ExpectAsync(409);

        Assert.Contains("trained on feature version v1-00000000", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var body = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        Assert.Equal(TestModels.ModelA, body.GetProperty("model_version").GetString());
    }
}
