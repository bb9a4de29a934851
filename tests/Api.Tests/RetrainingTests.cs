using System.Text.Json;
using ClinicalTrials.Api.Security;
using ClinicalTrials.Api.Tests.Hosting;
using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Retraining;
using Microsoft.Extensions.DependencyInjection;

namespace ClinicalTrials.Api.Tests;

/// <summary>
/// Retraining through the real silo, each test on an app of its own: the small synthetic trial through ingest and the
/// lake jobs, model A in production, then <c>POST /api/models/retrain</c> trains a challenger in process on the offline
/// features, compares both models on the same rows (the held-out split here: no prediction is labelled yet) and promotes
/// or keeps it in staging as the configured policy says; every decision, and the promotions and rollbacks by hand with
/// their caller, is listed at <c>GET /api/models/decisions</c>. The scheduled and the alert-started retraining are
/// started by calling the reminder's tick and a monitoring run, not by waiting for a clock; an alert within the cooldown
/// after a retraining starts none, and says so in the monitoring run's record.
/// </summary>
public sealed class RetrainingTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>A small trainer, and evidence minimums the trial's held-out split (a few patients) can meet.</summary>
    private static Dictionary<string, string> Settings(double minAurocGain, double maxBrierIncrease, string cooldown = "1.00:00:00") => new()
    {
        ["Retraining:Cooldown"] = cooldown,
        ["Retraining:Trees"] = "20",
        ["Retraining:Leaves"] = "15",
        ["Retraining:MinExamplesPerLeaf"] = "10",
        ["Retraining:TrainingDays"] = "7",
        ["Retraining:MinAurocGain"] = minAurocGain.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Retraining:MaxBrierIncrease"] = maxBrierIncrease.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Retraining:OnAlerts"] = "score_psi",
        ["Monitoring:MinLabelled"] = "2",
        ["Monitoring:MinPerClass"] = "2",
    };

    [Fact]
    public async Task A_challenger_the_policy_refuses_stays_in_staging_with_the_reason_and_manual_changes_are_recorded_with_their_caller()
    {
        using var data = new DataDirectory();
        // No challenger can gain a whole 1.0 of AUROC: the policy refuses it whatever it learnt.
        await using var app = await ClinicalApp.StartAsync(data.Path, Settings(minAurocGain: 1, maxBrierIncrease: 1));
        var trial = await ChampionAndLakeAsync(app, data.Path);

        var decision = await (await app.Http.PostAsync("/api/models/retrain", null, Cancellation)).ExpectAsync(200);

        var challenger = decision.GetProperty("version").GetString()!;
        Assert.Equal("retrain", decision.GetProperty("action").GetString());
        Assert.Equal(("user", $"key:{ApiKeyStore.KeyIdOf(TestCredentials.AdminKey)}"), Trigger(decision));
        Assert.Equal(TestModels.ModelA, decision.GetProperty("champion").GetString());
        Assert.Equal("kept_staging", decision.GetProperty("outcome").GetString());
        Assert.StartsWith("AUROC rule", decision.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var evidence = decision.GetProperty("evidence");
        Assert.Equal("held_out", evidence.GetProperty("source").GetString());
        Assert.Contains("at least 1 above", evidence.GetProperty("rule").GetString(), StringComparison.Ordinal);
        AssertSameRows(evidence);
        Assert.Equal("staging", (await StagesAsync(app))[challenger]);
        var runs = await (await app.Http.GetAsync("/api/models/runs", Cancellation)).ExpectAsync(200);
        Assert.Contains(runs.EnumerateArray(), r => r.GetProperty("model_version").GetString() == challenger && r.GetProperty("status").GetString() == "succeeded");

        // By hand, as another principal: promoted, then rolled back; both recorded with that caller.
        using var alice = app.CreateClient(app.Services.GetRequiredService<JwtSigningKey>().Mint("alice", [Roles.MlEngineer], null, TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow));
        await (await alice.PromoteAsync(challenger)).ExpectAsync(200);
        await (await alice.PostAsync("/api/models/rollback", null, Cancellation)).ExpectAsync(200);

        var decisions = (await (await app.Http.GetAsync("/api/models/decisions", Cancellation)).ExpectAsync(200)).EnumerateArray().ToList();
        Assert.Equal(["rollback", "promote", "retrain", "promote"], decisions.Select(d => d.GetProperty("action").GetString()));
        Assert.Equal(["rolled_back", "promoted", "kept_staging", "promoted"], decisions.Select(d => d.GetProperty("outcome").GetString()));
        Assert.Equal(("user", "alice"), Trigger(decisions[0]));
        Assert.Equal((TestModels.ModelA, challenger), (decisions[0].GetProperty("version").GetString(), decisions[0].GetProperty("champion").GetString()));
        Assert.Equal(("user", "alice"), Trigger(decisions[1]));
        Assert.Equal((challenger, TestModels.ModelA), (decisions[1].GetProperty("version").GetString(), decisions[1].GetProperty("champion").GetString()));
        Assert.False(decisions[1].TryGetProperty("evidence", out _)); // a promotion by hand compares nothing
        Assert.Equal(TestModels.ModelA, decisions[3].GetProperty("version").GetString());
        Assert.Single((await (await app.Http.GetAsync("/api/models/decisions?limit=1", Cancellation)).ExpectAsync(200)).EnumerateArray());
        await (await app.Http.GetAsync("/api/models/decisions?limit=0", Cancellation)).ExpectAsync(400);

        // A score PSI alert of the production model (four predictions of one patient have one score), which these settings
        // retrain on; but the retraining by hand above started within Retraining:Cooldown (24 h): none is started, the
        // run's record and report say so, and no decision is recorded for it.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(TestModels.ModelA, (await (await app.Http.PredictAsync(trial.PatientIds[1])).ExpectAsync(200)).GetProperty("model_version").GetString());
        }

        var run = await (await app.Http.PostAsync("/api/monitoring/run", null, Cancellation)).ExpectAsync(200);
        var runId = run.GetProperty("run_id").GetString();
        var skipped = run.GetProperty("report").GetProperty("retraining");
        Assert.Equal("skipped_cooldown", skipped.GetProperty("outcome").GetString());
        Assert.Equal($"score_psi alert of model {TestModels.ModelA} in monitoring run {runId}", skipped.GetProperty("trigger").GetString());
        Assert.Contains("Retraining:Cooldown", skipped.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var recorded = (await (await app.Http.GetAsync("/api/monitoring/runs?limit=1", Cancellation)).ExpectAsync(200))[0];
        Assert.Equal("skipped_cooldown", recorded.GetProperty("report").GetProperty("retraining").GetProperty("outcome").GetString());
        Assert.Contains("skipped_cooldown", await app.Http.GetStringAsync($"/api/monitoring/runs/{runId}/report.md", Cancellation), StringComparison.Ordinal);
        Assert.Equal(4, (await (await app.Http.GetAsync("/api/models/decisions", Cancellation)).ExpectAsync(200)).GetArrayLength());

        // By hand, the cooldown does not apply.
        var again = await (await app.Http.PostAsync("/api/models/retrain", null, Cancellation)).ExpectAsync(200);
        Assert.Equal(("retrain", "kept_staging"), (again.GetProperty("action").GetString(), again.GetProperty("outcome").GetString()));
        Assert.NotEqual(challenger, again.GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_challenger_the_policy_accepts_is_promoted_and_the_schedule_and_an_alert_retrain_too()
    {
        using var data = new DataDirectory();
        // Any challenger passes: the test is about the loop, the rules are PromotionPolicyTests'. No cooldown, so the
        // alert retrains right after the other two.
        await using var app = await ClinicalApp.StartAsync(data.Path, Settings(minAurocGain: -1, maxBrierIncrease: 1, cooldown: "00:00:00"));
        var trial = await ChampionAndLakeAsync(app, data.Path);

        var decision = await (await app.Http.PostAsync("/api/models/retrain", null, Cancellation)).ExpectAsync(200);

        var challenger = decision.GetProperty("version").GetString()!;
        Assert.Equal("promoted", decision.GetProperty("outcome").GetString());
        AssertSameRows(decision.GetProperty("evidence"));
        var stages = await StagesAsync(app);
        Assert.Equal(("production", "archived"), (stages[challenger], stages[TestModels.ModelA]));
        await Eventually.UntilAsync(
            async () => (await (await app.Http.PredictAsync(trial.PatientIds[0])).ExpectAsync(200)).GetProperty("model_version").GetString(),
            version => version == challenger, TimeSpan.FromSeconds(30), "a prediction by the promoted challenger");

        // The schedule's tick, delivered as the reminder service delivers it.
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IRetrainingGrain>("default").AsReference<IRemindable>()
            .ReceiveReminder(RetrainingGrain.Reminder, new TickStatus(DateTime.UtcNow, TimeSpan.FromDays(7), DateTime.UtcNow), Cancellation);
        var scheduled = await DecisionByAsync(app, "schedule");
        Assert.Equal(challenger, scheduled.GetProperty("champion").GetString());
        Assert.Equal("promoted", scheduled.GetProperty("outcome").GetString());

        // Four predictions of one patient have one score: a score PSI alert of the production model, which these
        // settings retrain on (Retraining:OnAlerts=score_psi).
        var production = scheduled.GetProperty("version").GetString()!;
        for (var i = 0; i < 4; i++)
        {
            var answer = await (await app.Http.PredictAsync(trial.PatientIds[1])).ExpectAsync(200);
            Assert.Equal(production, answer.GetProperty("model_version").GetString());
        }

        var run = await (await app.Http.PostAsync("/api/monitoring/run", null, Cancellation)).ExpectAsync(200);
        Assert.Contains(run.GetProperty("report").GetProperty("alerts").EnumerateArray(),
            a => a.GetProperty("kind").GetString() == "score_psi" && a.GetProperty("model_version").GetString() == production);
        Assert.Equal("started", run.GetProperty("report").GetProperty("retraining").GetProperty("outcome").GetString());
        var alerted = await DecisionByAsync(app, "alert");
        Assert.Equal($"score_psi alert of model {production} in monitoring run {run.GetProperty("run_id").GetString()}", Trigger(alerted).By);
        Assert.Equal(production, alerted.GetProperty("champion").GetString());
    }

    [Fact]
    public async Task Without_offline_features_the_retraining_fails_with_409_and_is_recorded()
    {
        using var data = new DataDirectory();
        await using var app = await ClinicalApp.StartAsync(data.Path, Settings(minAurocGain: 0.01, maxBrierIncrease: 0));

        var problem = await (await app.Http.PostAsync("/api/models/retrain", null, Cancellation)).ExpectAsync(409);

        Assert.Contains("No training rows", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var recorded = Assert.Single((await (await app.Http.GetAsync("/api/models/decisions", Cancellation)).ExpectAsync(200)).EnumerateArray());
        Assert.Equal(("retrain", "failed"), (recorded.GetProperty("action").GetString(), recorded.GetProperty("outcome").GetString()));
        Assert.False(recorded.TryGetProperty("version", out _)); // no challenger was made
    }

    /// <summary>The trial in through ingest, model A promoted, then silver and the offline features from it.</summary>
    private static async Task<TestModels.Trial> ChampionAndLakeAsync(ClinicalApp app, string dataPath)
    {
        var trial = await TestModels.LoadIntoAsync(app.Http, dataPath, TestModels.ModelA);
        await (await app.Http.PromoteAsync(TestModels.ModelA)).ExpectAsync(200);
        foreach (var job in new[] { "bronze-to-silver", "offline-features" })
        {
            var run = await (await app.Http.PostAsync($"/api/pipeline/jobs/{job}/run", null, Cancellation)).ExpectAsync(200);
            Assert.Equal("succeeded", run.GetProperty("status").GetString());
        }

        return trial;
    }

    /// <summary>Both models were scored on the same labelled rows, holding both classes, and each got an AUROC and a Brier score.</summary>
    private static void AssertSameRows(JsonElement evidence)
    {
        var (champion, challenger) = (evidence.GetProperty("champion"), evidence.GetProperty("challenger"));
        Assert.Equal(champion.GetProperty("rows").GetInt64(), challenger.GetProperty("rows").GetInt64());
        Assert.Equal(champion.GetProperty("positives").GetInt64(), challenger.GetProperty("positives").GetInt64());
        Assert.InRange(champion.GetProperty("positives").GetInt64(), 1, champion.GetProperty("rows").GetInt64() - 1);
        foreach (var model in new[] { champion, challenger })
        {
            Assert.InRange(model.GetProperty("auroc").GetDouble(), 0, 1);
            Assert.InRange(model.GetProperty("brier").GetDouble(), 0, 1);
        }
    }

    private static (string? Kind, string? By) Trigger(JsonElement decision) =>
        (decision.GetProperty("trigger").GetProperty("kind").GetString(), decision.GetProperty("trigger").GetProperty("by").GetString());

    private static async Task<Dictionary<string, string?>> StagesAsync(ClinicalApp app) =>
        (await (await app.Http.GetAsync("/api/models", Cancellation)).ExpectAsync(200))
        .EnumerateArray().ToDictionary(m => m.GetProperty("version").GetString()!, m => m.GetProperty("stage").GetString());

    /// <summary>Waits for the retraining a trigger of <paramref name="kind"/> started (it runs in the background) to record its decision.</summary>
    internal static async Task<JsonElement> DecisionByAsync(ClinicalApp app, string kind) => (await Eventually.UntilAsync(async () =>
    {
        var decisions = await (await app.Http.GetAsync("/api/models/decisions", Cancellation)).ExpectAsync(200);
        return decisions.EnumerateArray().Where(d => Trigger(d).Kind == kind).Select(d => (JsonElement?)d).FirstOrDefault();
    }, decision => decision is not null, TimeSpan.FromMinutes(3), $"a retraining decision triggered by {kind}")).GetValueOrDefault();
}
