using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Api.Tests;

/// <summary>Upload, promotion, rollback and refusal, each on an app of its own (they change what is in production).</summary>
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

        // Each change happens while predictions are answered, and the load goes on until some were answered after it.
        Task AnsweredByAsync(string version, int atLeast) => Eventually.UntilAsync(
            () => Task.FromResult(versions.GetValueOrDefault(version) >= atLeast || !failures.IsEmpty ? "" : null),
            TimeSpan.FromSeconds(30), $"{atLeast} predictions answered by {version}");
        await AnsweredByAsync(TestModels.ModelA, 20);
        var promoted = await (await app.Http.PromoteAsync(TestModels.ModelB)).ExpectAsync(200);
        await AnsweredByAsync(TestModels.ModelB, 20);
        var answeredByA = versions.GetValueOrDefault(TestModels.ModelA);
        var rolledBack = await (await app.Http.PostAsync("/api/models/rollback", null, TestContext.Current.CancellationToken)).ExpectAsync(200);
        await AnsweredByAsync(TestModels.ModelA, answeredByA + 20);
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

    [Fact]
    public async Task An_incomplete_or_unloadable_upload_is_400_naming_what_is_wrong_and_stores_nothing()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path);

        var missing = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "bad-1", m => m.Remove("feature_names"))).ExpectAsync(400);
        var nullField = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "bad-2", m => m["onnx_output"] = null)).ExpectAsync(400);
        var blankName = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "bad-3", m => m["feature_names"]!.AsArray()[0] = "")).ExpectAsync(400);
        var noGraph = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "bad-4", onnx: [1, 2, 3])).ExpectAsync(400);

        Assert.Contains("feature_names", Error(missing, "files.metadata.json"), StringComparison.Ordinal);
        Assert.Contains("onnx_output", Error(nullField, "files.metadata.json"), StringComparison.Ordinal);
        Assert.Contains("'feature_names'", Error(blankName, "files.metadata.json"), StringComparison.Ordinal);
        Assert.Contains("cannot be loaded", Error(noGraph, "files.model.onnx"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(data.Path, "models")), "a refused upload must leave no files");
        await (await UploadAsync(app.Http, trial, TestModels.ModelA, "good")).ExpectAsync(201);
        var models = await (await app.Http.GetAsync("/api/models", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal(["good"], models.EnumerateArray().Select(m => m.GetProperty("version").GetString()));
        await (await app.Http.PromoteAsync("good")).ExpectAsync(200);
        await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
    }

    [Fact]
    public async Task A_second_upload_of_a_version_with_other_files_is_409_and_the_model_keeps_its_files_and_scores()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path);
        var trial = await TestModels.LoadIntoAsync(app.Http, data.Path);
        var created = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "v1")).ExpectAsync(201);
        await (await app.Http.PromoteAsync("v1")).ExpectAsync(200);
        var before = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        var onnxPath = Path.Combine(ModelArtifacts.Folder(data.Path, "v1"), ModelArtifacts.Onnx);
        var stored = await File.ReadAllBytesAsync(onnxPath, TestContext.Current.CancellationToken);

        var conflict = await (await UploadAsync(app.Http, trial, TestModels.ModelB, "v1")).ExpectAsync(409);
        var otherMetadata = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "v1", m => m["run_id"] = "another-run")).ExpectAsync(409);
        var retried = await (await UploadAsync(app.Http, trial, TestModels.ModelA, "v1")).ExpectAsync(200);

        Assert.Contains("immutable", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("immutable", otherMetadata.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("production", retried.GetProperty("stage").GetString());
        Assert.Equal(stored, await File.ReadAllBytesAsync(onnxPath, TestContext.Current.CancellationToken));
        Assert.Equal(ModelArtifacts.OnnxHash(stored), created.GetProperty("onnx_sha256").GetString());
        var after = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        Assert.Equal(before.GetProperty("adverse_event_probability").GetDouble(), after.GetProperty("adverse_event_probability").GetDouble());
    }

    [Fact]
    public async Task A_bad_version_in_the_store_is_skipped_until_repaired_and_the_registry_and_production_survive_a_restart()
    {
        using var data = new DataDirectory();
        TestModels.Trial trial;
        await using (var first = await ClinicalApp.StartAsync(data.Path))
        {
            trial = await TestModels.LoadIntoAsync(first.Http, data.Path, TestModels.ModelA);
            await (await first.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        }

        // What the old upload path left behind: a folder whose metadata lacks fields, and one without model.onnx.
        var incomplete = ModelArtifacts.Folder(data.Path, "incomplete");
        Directory.CreateDirectory(incomplete);
        await File.WriteAllTextAsync(Path.Combine(incomplete, ModelArtifacts.Metadata), """{"version":"incomplete"}""", TestContext.Current.CancellationToken);
        TestModels.CopyModel(trial, TestModels.ModelB, data.Path, "no-onnx");
        File.Delete(Path.Combine(ModelArtifacts.Folder(data.Path, "no-onnx"), ModelArtifacts.Onnx));
        await using var app = await ClinicalApp.StartAsync(data.Path);

        var models = await (await app.Http.GetAsync("/api/models", TestContext.Current.CancellationToken)).ExpectAsync(200);
        var predicted = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);

        Assert.Equal([TestModels.ModelA], models.EnumerateArray().Select(m => m.GetProperty("version").GetString()));
        Assert.Equal(TestModels.ModelA, predicted.GetProperty("model_version").GetString());
        await (await app.Http.PromoteAsync("incomplete")).ExpectAsync(404);

        // Completed after the registry skipped it (a copy that was still being written): adopted at the next look.
        TestModels.CopyModel(trial, TestModels.ModelB, data.Path, "no-onnx");
        var repaired = await (await app.Http.PromoteAsync("no-onnx")).ExpectAsync(200);
        var listed = await (await app.Http.GetAsync("/api/models", TestContext.Current.CancellationToken)).ExpectAsync(200);

        Assert.Equal("production", repaired.GetProperty("stage").GetString());
        Assert.Equal([TestModels.ModelA, "no-onnx"], listed.EnumerateArray().Select(m => m.GetProperty("version").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_model_onnx_changed_after_registration_is_never_loaded()
    {
        using var data = new DataDirectory();
        TestModels.Trial trial;
        await using (var first = await ClinicalApp.StartAsync(data.Path))
        {
            trial = await TestModels.LoadIntoAsync(first.Http, data.Path, TestModels.ModelA, TestModels.ModelB);
            await (await first.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        }

        var modelB = Path.Combine(ModelArtifacts.Folder(data.Path, TestModels.ModelB), ModelArtifacts.Onnx);
        File.Copy(modelB, Path.Combine(ModelArtifacts.Folder(data.Path, TestModels.ModelA), ModelArtifacts.Onnx), overwrite: true);
        await using var app = await ClinicalApp.StartAsync(data.Path);

        await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(503);
        var health = (await (await app.Http.GetAsync("/api/clinical/health", TestContext.Current.CancellationToken)).ExpectAsync(200))
            .GetProperty("components").GetProperty("model");

        Assert.Equal("degraded", health.GetProperty("status").GetString());
        await (await app.Http.PromoteAsync(TestModels.ModelB)).ExpectAsync(200);
        var rolledBack = await (await app.Http.PostAsync("/api/models/rollback", null, TestContext.Current.CancellationToken)).ExpectAsync(409);
        Assert.Contains("SHA-256", rolledBack.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var predicted = await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200);
        Assert.Equal(TestModels.ModelB, predicted.GetProperty("model_version").GetString());
    }

    private static string Error(JsonElement problem, string field) =>
        string.Join(" ", problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()));

    /// <summary>Posts a trained model's files as <c>POST /api/models</c> does for the trainer, under <paramref name="version"/>, optionally altered.</summary>
    private static Task<HttpResponseMessage> UploadAsync(
        HttpClient http, TestModels.Trial trial, string model, string version, Action<JsonObject>? changeMetadata = null, byte[]? onnx = null)
    {
        var folder = ModelArtifacts.Folder(trial.ModelsRoot, model);
        var metadata = JsonNode.Parse(File.ReadAllBytes(Path.Combine(folder, ModelArtifacts.Metadata)))!.AsObject();
        metadata["version"] = version;
        changeMetadata?.Invoke(metadata);
        var files = new JsonObject
        {
            [ModelArtifacts.Metadata] = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(metadata)),
            [ModelArtifacts.Onnx] = Convert.ToBase64String(onnx ?? File.ReadAllBytes(Path.Combine(folder, ModelArtifacts.Onnx))),
            [ModelArtifacts.Report] = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(folder, ModelArtifacts.Report))),
        };
        return http.PostAsJsonAsync("/api/models", new JsonObject { ["version"] = version, ["files"] = files }, TestContext.Current.CancellationToken);
    }
}
