using System.Net.Http.Json;
using System.Text.Json;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Tests;

/// <summary>An app with the synthetic trial stored and model A in production.</summary>
public sealed class PredictionAppFixture : IAsyncLifetime
{
    private readonly DataDirectory _data = new();
    private ClinicalApp? _app;

    internal ClinicalApp App => _app ?? throw new InvalidOperationException("Not started.");

    internal TestModels.Trial Trial { get; private set; } = null!;

    public string DataPath => _data.Path;

    public async ValueTask InitializeAsync()
    {
        _app = await ClinicalApp.StartAsync(_data.Path);
        Trial = await TestModels.LoadIntoAsync(_app.Http, _data.Path, TestModels.ModelA, TestModels.ModelB);
        await (await _app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _data.Dispose();
    }
}

public sealed class PredictionApiTests(PredictionAppFixture fixture) : IClassFixture<PredictionAppFixture>
{
    private readonly HttpClient _http = fixture.App.Http;

    [Fact]
    public async Task Predict_returns_the_probability_risk_level_model_and_features_time()
    {
        var patient = fixture.Trial.PatientIds[0];

        var body = await (await _http.PredictAsync(patient)).ExpectAsync(200);

        Assert.Equal(patient, body.GetProperty("patient_id").GetString());
        var probability = body.GetProperty("adverse_event_probability").GetDouble();
        Assert.InRange(probability, 0, 1);
        Assert.Equal(new RiskThresholds().Classify(probability).ToString().ToUpperInvariant(), body.GetProperty("risk_level").GetString());
        Assert.Equal(TestModels.ModelA, body.GetProperty("model_version").GetString());
        var features = await (await _http.GetAsync($"/api/patients/{patient}/features", TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal(features.GetProperty("as_of").GetDateTimeOffset(), body.GetProperty("features_as_of").GetDateTimeOffset());
    }

    [Fact]
    public async Task Predict_scores_as_the_model_scores_the_patients_current_vector()
    {
        var patient = fixture.Trial.PatientIds[1];
        var features = await (await _http.GetAsync($"/api/patients/{patient}/features", TestContext.Current.CancellationToken)).ExpectAsync(200);
        var vector = FeatureCatalogue.Names.Select(n => features.GetProperty("features").GetProperty(n) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : double.NaN).ToArray();
        var trial = await TestModels.GetAsync();
        var folder = Models.Metadata.ModelArtifacts.Folder(trial.ModelsRoot, TestModels.ModelA);
        using var model = OnnxModel.Load(
            Models.Metadata.ModelJson.ReadMetadata(File.ReadAllBytes(Path.Combine(folder, Models.Metadata.ModelArtifacts.Metadata))),
            File.ReadAllBytes(Path.Combine(folder, Models.Metadata.ModelArtifacts.Onnx)));

        var body = await (await _http.PredictAsync(patient)).ExpectAsync(200);

        Assert.Equal(model.Score(vector), body.GetProperty("adverse_event_probability").GetDouble(), 1e-6);
    }

    [Fact]
    public async Task An_unknown_patient_is_404_problem_json()
    {
        var body = await (await _http.PredictAsync("PT00000000")).ExpectAsync(404);
        Assert.Contains("PT00000000", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_or_missing_patient_id_is_400_naming_the_field()
    {
        var malformed = await (await _http.PredictAsync("patient-7")).ExpectAsync(400);
        Assert.True(malformed.GetProperty("errors").TryGetProperty("patient_id", out _));
        var missing = await (await _http.PostAsJsonAsync("/predict", new { }, TestContext.Current.CancellationToken)).ExpectAsync(400);
        Assert.True(missing.GetProperty("errors").TryGetProperty("patient_id", out _));
        var notJson = await (await _http.PostAsync("/predict", new StringContent("{", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken)).ExpectAsync(400);
        Assert.Equal(400, notJson.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_batch_scores_known_patients_with_one_model_and_lists_the_unknown()
    {
        string[] known = [.. fixture.Trial.PatientIds.Take(5)];

        var body = await (await _http.PostAsJsonAsync("/predict/batch", new { patient_ids = known.Append("PT00000000").ToArray() }, TestContext.Current.CancellationToken)).ExpectAsync(200);

        Assert.Equal(TestModels.ModelA, body.GetProperty("model_version").GetString());
        Assert.Equal(known, body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("patient_id").GetString()));
        Assert.Equal(["PT00000000"], body.GetProperty("not_found").EnumerateArray().Select(p => p.GetString()));
        var invalid = await (await _http.PostAsJsonAsync("/predict/batch", new { patient_ids = new[] { known[0], "bad" } }, TestContext.Current.CancellationToken)).ExpectAsync(400);
        Assert.True(invalid.GetProperty("errors").TryGetProperty("patient_ids[1]", out _));
        await (await _http.PostAsJsonAsync("/predict/batch", new { patient_ids = Array.Empty<string>() }, TestContext.Current.CancellationToken)).ExpectAsync(400);
    }

    [Fact]
    public void Risk_levels_follow_the_thresholds()
    {
        var thresholds = new RiskThresholds { Medium = 0.2, High = 0.7 };
        Assert.Equal(RiskLevel.Low, thresholds.Classify(0.19));
        Assert.Equal(RiskLevel.Medium, thresholds.Classify(0.2));
        Assert.Equal(RiskLevel.Medium, thresholds.Classify(0.69));
        Assert.Equal(RiskLevel.High, thresholds.Classify(0.7));
        Assert.False(new RiskThresholds { Medium = 0.7, High = 0.2 }.IsValid);
    }

    [Fact]
    public async Task Every_prediction_is_logged_and_read_back_by_patient()
    {
        // A patient no other test of this class predicts for (they share one app and its log).
        var patient = fixture.Trial.PatientIds[^1];
        var answers = new List<JsonElement>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await (await _http.PredictAsync(patient)).ExpectAsync(200));
        }

        var rows = await PredictionLogTests.LoggedAsync(_http, patient, 3);

        Assert.Equal(3, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(patient, r.GetProperty("patient_id").GetString());
            Assert.True(Guid.TryParse(r.GetProperty("id").GetString(), out _));
            Assert.Equal(TestModels.ModelA, r.GetProperty("model_version").GetString());
            Assert.Equal(answers[0].GetProperty("adverse_event_probability").GetDouble(), r.GetProperty("prediction_score").GetDouble(), 12);
            Assert.Equal(answers[0].GetProperty("risk_level").GetString(), r.GetProperty("risk_level").GetString());
            Assert.True(r.GetProperty("latency_ms").GetDouble() > 0);
            var used = r.GetProperty("features_used");
            Assert.Equal(FeatureCatalogue.Version, used.GetProperty("feature_version").GetString());
            Assert.Equal(FeatureCatalogue.Count, used.GetProperty("values").GetArrayLength());
            Assert.Equal($"/api/models/{TestModels.ModelA}", used.GetProperty("feature_list").GetString());
        });

        // The reference resolves to the names of the values, in their order.
        var model = await (await _http.GetAsync(rows[0].GetProperty("features_used").GetProperty("feature_list").GetString(), TestContext.Current.CancellationToken)).ExpectAsync(200);
        Assert.Equal(FeatureCatalogue.Names, model.GetProperty("metadata").GetProperty("feature_names").EnumerateArray().Select(n => n.GetString()));
        Assert.True(rows[0].GetProperty("timestamp").GetDateTimeOffset() >= rows[2].GetProperty("timestamp").GetDateTimeOffset(), "Newest first.");
    }

    [Fact]
    public async Task A_model_version_is_described_and_each_of_its_files_is_served_as_stored()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var model = await (await _http.GetAsync($"/api/models/{TestModels.ModelA}", cancellation)).ExpectAsync(200);

        Assert.Equal("production", model.GetProperty("registration").GetProperty("stage").GetString());
        Assert.Equal(TestModels.ModelA, model.GetProperty("metadata").GetProperty("version").GetString());
        var folder = ModelArtifacts.Folder(fixture.DataPath, TestModels.ModelA);
        var artifacts = model.GetProperty("artifacts").EnumerateArray().ToList();
        Assert.Equal(Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal), artifacts.Select(a => a.GetProperty("name").GetString()));
        Assert.Superset(new HashSet<string?> { ModelArtifacts.Onnx, ModelArtifacts.Metadata, ModelArtifacts.Report, ModelArtifacts.RocPlot },
            artifacts.Select(a => a.GetProperty("name").GetString()).ToHashSet());
        foreach (var artifact in artifacts)
        {
            using var response = await _http.GetAsync(artifact.GetProperty("href").GetString(), cancellation);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellation);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, artifact.GetProperty("name").GetString()!)), bytes);
            Assert.Equal(artifact.GetProperty("size").GetInt64(), bytes.Length);
        }

        using var plot = await _http.GetAsync($"/api/models/{TestModels.ModelA}/artifacts/{ModelArtifacts.RocPlot}", cancellation);
        Assert.Equal("image/png", plot.Content.Headers.ContentType?.MediaType);
        await (await _http.GetAsync("/api/models/no-such-version", cancellation)).ExpectAsync(404);
        await (await _http.GetAsync($"/api/models/{TestModels.ModelA}/artifacts/no-such-file.png", cancellation)).ExpectAsync(404);
    }

    /// <summary>Names that would reach outside the version's folder, or another version's file: never served.</summary>
    [Theory]
    [InlineData("..%2Fmodel-b%2Fmodel.onnx", 400)]
    [InlineData("%2E%2E%2F%2E%2E%2Fledger.db", 400)]
    [InlineData("..%5C..%5Cledger.db", 400)]
    [InlineData(".metadata.json", 400)]
    [InlineData("ledger.db", 404)]
    public async Task An_artifact_name_outside_the_versions_folder_is_refused(string name, int status)
    {
        // Encoded: a '..' segment of its own, even as %2E%2E, is resolved before routing, to the version's description.
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/models/{TestModels.ModelA}/artifacts/{name}", UriKind.Relative));
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        var problem = await response.ExpectAsync(status);
        if (status == 400)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        }
    }

    [Fact]
    public async Task Models_are_listed_with_version_stage_metrics_and_creation_time()
    {
        var models = await (await _http.GetAsync("/api/models", TestContext.Current.CancellationToken)).ExpectAsync(200);

        var byVersion = models.EnumerateArray().ToDictionary(m => m.GetProperty("version").GetString()!);
        Assert.Equal("production", byVersion[TestModels.ModelA].GetProperty("stage").GetString());
        Assert.Equal("staging", byVersion[TestModels.ModelB].GetProperty("stage").GetString());
        Assert.InRange(byVersion[TestModels.ModelA].GetProperty("metrics").GetProperty("test.auroc").GetDouble(), 0, 1);
        Assert.True(byVersion[TestModels.ModelB].GetProperty("created_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(-1));
    }

    [Fact]
    public async Task Runs_are_listed_with_parameters_metrics_tags_and_artifacts()
    {
        var store = fixture.App.Services.GetRequiredService<ITrackingStore>();
        var run = new ExperimentRun("run-listed", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "succeeded", TestModels.ModelA,
            new Dictionary<string, string> { ["seed"] = "1" }, new Dictionary<string, double> { ["test.auroc"] = 0.8, ["test.auprc"] = double.NaN },
            new Dictionary<string, string> { ["source"] = "test" }, new Dictionary<string, string> { ["model.onnx"] = "models/model-a/model.onnx" }, null);
        await store.RecordRunAsync(run, TestContext.Current.CancellationToken);

        var runs = await (await _http.GetAsync("/api/models/runs", TestContext.Current.CancellationToken)).ExpectAsync(200);

        var listed = Assert.Single(runs.EnumerateArray(), r => r.GetProperty("run_id").GetString() == "run-listed");
        Assert.Equal("1", listed.GetProperty("parameters").GetProperty("seed").GetString());
        Assert.Equal(0.8, listed.GetProperty("metrics").GetProperty("test.auroc").GetDouble());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("metrics").GetProperty("test.auprc").ValueKind);
        Assert.Equal("test", listed.GetProperty("tags").GetProperty("source").GetString());
        Assert.Equal("models/model-a/model.onnx", listed.GetProperty("artifacts").GetProperty("model.onnx").GetString());
    }
}
