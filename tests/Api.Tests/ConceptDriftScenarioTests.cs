using System.Collections.Immutable;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Generator;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// Monitoring's concept-drift scenario, end to end through the real silo: model A (trained on the generator's trial) is
/// in production; a trial whose events stop matching it (<c>--concept-drift</c>: the deterioration before an event moves
/// the vitals and labs the other way) comes in through ingest and the lake jobs; the model's hourly predictions of its
/// patients are logged; a monitoring run labels them from the adverse events ingest received, finds the AUROC below 0.80
/// and raises an AUROC alert; the alert starts a retraining on the offline features; champion and challenger are scored
/// on the labelled predictions of the patients the challenger held out, and the challenger is promoted and serves.
/// <c>POST /predict</c> logs at the wall clock, after every onset of a past trial, so the hourly predictions are scored
/// here from the offline features (identical to the online ones: OnlineOfflineEquivalenceTests) by the production model
/// and logged at their clinical times, as the endpoint would have logged them. The refusal of a challenger the policy
/// rejects is RetrainingTests'.
/// </summary>
public sealed class ConceptDriftScenarioTests
{
    private const int Patients = 120;
    private const int Messages = 9000;
    private const int Days = 3;

    /// <summary>
    /// The trial's first day: it ends two days before the test's day begins, so that every prediction's horizon (24 h)
    /// and grace (1 h here) have passed at any time of day and the labels are the same.
    /// </summary>
    private static readonly DateTimeOffset Start = TestModels.Start.AddDays(-2);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Labels_that_stop_matching_the_model_raise_an_auroc_alert_whose_retraining_promotes_a_better_model()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, new Dictionary<string, string>
        {
            ["Monitoring:LabelGrace"] = "01:00:00",
            ["Retraining:OnAlerts"] = MonitoringAlert.Auroc,
            ["Retraining:Trees"] = "20",
            ["Retraining:Leaves"] = "15",
            ["Retraining:MinExamplesPerLeaf"] = "10",
        });
        var champion = await TestModels.GetAsync();
        TestModels.CopyModel(champion, TestModels.ModelA, data.Path);
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        var drifted = new SyntheticTrial(seed: 31, Patients, sites: 4, invalidShare: 0, eventRate: 8, conceptDrift: true);
        await TestModels.PostAsync(app.Http, TestModels.Messages(drifted, Messages, Start, Days).Select(m => m.Body));
        foreach (var job in new[] { "bronze-to-silver", "offline-features" })
        {
            var ran = await (await app.Http.PostAsync($"/api/pipeline/jobs/{job}/run", null, Cancellation)).ExpectAsync(200);
            Assert.Equal("succeeded", ran.GetProperty("status").GetString());
        }

        var patients = await LogHourlyPredictionsAsync(app, data.Path);

        var run = await (await app.Http.PostAsync("/api/monitoring/run", null, Cancellation)).ExpectAsync(200);

        var report = run.GetProperty("report");
        var performance = report.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("model_version").GetString() == TestModels.ModelA).GetProperty("performance");
        Assert.Equal("evaluated", performance.GetProperty("verdict").GetString());
        Assert.True(performance.GetProperty("auroc_upper").GetDouble() < 0.80, $"AUROC {performance.GetProperty("auroc").GetDouble()}, upper bound {performance.GetProperty("auroc_upper").GetDouble()}");
        Assert.Contains(report.GetProperty("alerts").EnumerateArray(),
            a => a.GetProperty("kind").GetString() == MonitoringAlert.Auroc && a.GetProperty("model_version").GetString() == TestModels.ModelA);
        Assert.Equal("started", report.GetProperty("retraining").GetProperty("outcome").GetString());

        var decision = await RetrainingTests.DecisionByAsync(app, "alert");
        Assert.Equal($"auroc alert of model {TestModels.ModelA} in monitoring run {run.GetProperty("run_id").GetString()}",
            decision.GetProperty("trigger").GetProperty("by").GetString());
        Assert.Equal((TestModels.ModelA, "promoted"), (decision.GetProperty("champion").GetString(), decision.GetProperty("outcome").GetString()));

        // Scored on the labelled predictions of the challenger's held-out patients (the split its seed, 42 by default,
        // makes of the patients it trained on), where it is the better model by the policy's margin.
        var evidence = decision.GetProperty("evidence");
        Assert.Equal(DecisionEvidence.LabelledWindow, evidence.GetProperty("source").GetString());
        var split = PatientSplit.Create(patients, seed: 42);
        var heldOutLabelled = await LabelledOfAsync(app, patient => split[patient] == SplitName.Test);
        var (before, after) = (evidence.GetProperty("champion"), evidence.GetProperty("challenger"));
        Assert.Equal(heldOutLabelled, before.GetProperty("rows").GetInt64());
        Assert.Equal(heldOutLabelled, after.GetProperty("rows").GetInt64());
        Assert.True(after.GetProperty("auroc").GetDouble() >= before.GetProperty("auroc").GetDouble() + 0.01,
            $"challenger {after.GetProperty("auroc").GetDouble()} against champion {before.GetProperty("auroc").GetDouble()}");
        Assert.True(after.GetProperty("brier").GetDouble() <= before.GetProperty("brier").GetDouble() + 1e-9);

        var challenger = decision.GetProperty("version").GetString()!;
        await Eventually.UntilAsync(
            async () => (await (await app.Http.PredictAsync(patients[0])).ExpectAsync(200)).GetProperty("model_version").GetString(),
            version => version == challenger, TimeSpan.FromSeconds(30), "a prediction by the promoted challenger");
    }

    /// <summary>
    /// Logs the production model's prediction of each patient at each hour the offline features hold a row for, scored
    /// from that row; answers the patients.
    /// </summary>
    private static async Task<List<string>> LogHourlyPredictionsAsync(ClinicalApp app, string dataPath)
    {
        var metadata = ModelJson.ReadMetadata(await File.ReadAllBytesAsync(Path.Combine(ModelArtifacts.Folder(dataPath, TestModels.ModelA), ModelArtifacts.Metadata), Cancellation));
        using var model = OnnxModel.Load(metadata, await File.ReadAllBytesAsync(Path.Combine(ModelArtifacts.Folder(dataPath, TestModels.ModelA), ModelArtifacts.Onnx), Cancellation));
        var thresholds = app.Services.GetRequiredService<IOptions<RiskThresholds>>().Value;
        var from = DateOnly.FromDateTime(Start.UtcDateTime);
        var to = from.AddDays(Days);
        var rows = await LakeTrainingRows.OpenAsync(new LocalLakeStorage(dataPath), from, to, metadata.LabelOrLegacy, Cancellation);
        var order = metadata.FeatureNames.Select(name => rows.FeatureNames.ToList().IndexOf(name)).ToArray();
        Assert.DoesNotContain(-1, order);

        var logged = new HashSet<(string, DateTime)>();
        var predictions = new List<PredictionRecord>();
        await foreach (var row in rows.ReadAsync(from, to, Cancellation))
        {
            var hour = row.Timestamp.UtcDateTime.Date.AddHours(row.Timestamp.UtcDateTime.Hour);
            if (logged.Add((row.PatientId, hour)))
            {
                ImmutableArray<double> features = [.. order.Select(i => (double)row.Features[i])];
                var score = model.Score(features.AsSpan());
                predictions.Add(new PredictionRecord(Guid.NewGuid(), row.PatientId, row.Timestamp, score,
                    thresholds.Classify(score).ToString().ToUpperInvariant(), TestModels.ModelA, 1, rows.FeatureVersion, row.Timestamp, features));
            }
        }

        await app.Services.GetRequiredService<ITrackingStore>().WritePredictionsAsync(predictions, Cancellation);
        return [.. predictions.Select(p => p.PatientId).Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>How many of model A's logged predictions in the monitoring window have a label, of the patients <paramref name="include"/> keeps.</summary>
    private static async Task<long> LabelledOfAsync(ClinicalApp app, Func<string, bool> include)
    {
        var count = 0L;
        var now = DateTimeOffset.UtcNow;
        await foreach (var prediction in app.Services.GetRequiredService<ITrackingStore>().ReadWindowAsync(TestModels.ModelA, now.AddDays(-7), now, Cancellation))
        {
            count += prediction.Label is OutcomeLabel.Positive or OutcomeLabel.Negative && include(prediction.PatientId) ? 1 : 0;
        }

        return count;
    }
}
