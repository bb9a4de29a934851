using ClinicalTrials.Grains.Interfaces;
using ClinicalTrials.Grains.Models;
using ClinicalTrials.Grains.Monitoring;
using ClinicalTrials.Lake.Storage;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Grains.Retraining;

/// <summary>
/// One retraining, start to end: train a challenger (<see cref="IChallengerTrainer"/>) with the champion's label, register
/// it as staging, score champion and challenger on the same labelled rows, and let the <see cref="PromotionPolicy"/>
/// decide; the registry records the decision either way. The rows are the champion's logged predictions of the monitoring
/// window with the labels monitoring gave them, for the patients the challenger held out of its training; when those are
/// too few for the policy, the challenger's held-out test split instead (the evidence says which). Called by <see cref="RetrainingGrain"/>, which keeps runs from overlapping.
/// </summary>
public sealed partial class ModelRetraining(
    IChallengerTrainer trainer,
    ModelStore models,
    ITrackingStore tracking,
    IGrainFactory grains,
    IOptions<RetrainingOptions> options,
    IOptions<MonitoringOptions> monitoring,
    TimeProvider clock,
    ILogger<ModelRetraining> logger)
{
    public async Task<ModelDecision> RunAsync(ModelTrigger trigger, CancellationToken cancellationToken = default)
    {
        var registry = grains.GetGrain<IModelRegistryGrain>(ModelArtifacts.ModelName);
        var champion = await registry.GetProductionAsync();
        ModelDecision Decision(string? version, string outcome, string reason, DecisionEvidence? evidence = null) =>
            new(clock.GetUtcNow(), ModelDecision.Retrain, trigger, version, champion?.Version, outcome, reason, evidence);

        TrainedChallenger challenger;
        try
        {
            var label = champion is null ? LabelDefinition.Default : (await models.ReadMetadataAsync(champion.Version)).LabelOrLegacy;
            challenger = await trainer.TrainAsync(label, cancellationToken);
            var registered = await registry.RegisterAsync(challenger.Version, challenger.OnnxSha256);
            if (registered.Status != RegistryStatus.Ok)
            {
                return await RecordAsync(registry, Decision(challenger.Version, DecisionOutcomes.Failed, $"The registry did not register the challenger: {registered.Message}"));
            }
        }
        catch (Exception e) when (e is ChallengerTrainingException or InvalidDataException or LakeStorageUnavailableException or TrackingStoreUnavailableException)
        {
            return await RecordAsync(registry, Decision(null, DecisionOutcomes.Failed, $"No challenger was trained: {e.Message}"));
        }

        if (champion is null)
        {
            return await RecordAsync(registry, Decision(challenger.Version, DecisionOutcomes.KeptStaging,
                "No model is in production to compare the challenger with; review it and promote it by hand."));
        }

        var policy = options.Value.Policy(monitoring.Value);
        DecisionEvidence evidence;
        try
        {
            evidence = await CompareAsync(champion.Version, challenger.Version, policy, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or ModelRefusedException or LakeStorageUnavailableException or TrackingStoreUnavailableException)
        {
            return await RecordAsync(registry, Decision(challenger.Version, DecisionOutcomes.Failed, $"The challenger stays in staging: the models could not be compared: {e.Message}"));
        }

        var verdict = policy.Decide(evidence.Champion, evidence.Challenger);
        LogVerdict(logger, challenger.Version, champion.Version, evidence.Source, verdict.Promote, verdict.Reason);
        if (!verdict.Promote)
        {
            return await RecordAsync(registry, Decision(challenger.Version, DecisionOutcomes.KeptStaging, verdict.Reason, evidence));
        }

        // The evidence is against the champion read at the start: a promotion by hand meanwhile voids it.
        if ((await registry.GetProductionAsync())?.Version is var current && current != champion.Version)
        {
            return await RecordAsync(registry, Decision(challenger.Version, DecisionOutcomes.KeptStaging,
                $"Production changed from {champion.Version} to {current ?? "(none)"} while the challenger was trained and compared; the comparison is void, retrain again.", evidence));
        }

        var promoted = await registry.PromoteAsync(challenger.Version, trigger, verdict.Reason, evidence);
        return promoted.Decision ?? await RecordAsync(registry, Decision(challenger.Version, DecisionOutcomes.Failed, promoted.Message ?? "The registry did not promote the challenger."));
    }

    /// <summary>Both models on the champion's labelled window of the challenger's held-out patients when it holds enough labels for the policy, else on the challenger's held-out split.</summary>
    private async Task<DecisionEvidence> CompareAsync(string championVersion, string challengerVersion, PromotionPolicy policy, CancellationToken cancellationToken)
    {
        var championMetadata = await models.ReadMetadataAsync(championVersion);
        var challengerMetadata = await models.ReadMetadataAsync(challengerVersion);
        using var champion = OnnxModel.LoadWithoutFeatureCheck(championMetadata, await models.ReadOnnxAsync(championVersion));
        using var challenger = OnnxModel.LoadWithoutFeatureCheck(challengerMetadata, await models.ReadOnnxAsync(challengerVersion));

        var to = clock.GetUtcNow();
        var from = to - monitoring.Value.Window;
        // The challenger trained on the latest offline features, which hold most of the window's patients: only the
        // patients it held out are scored, or it would be judged on rows it learnt.
        var heldOut = await trainer.HeldOutPatientsAsync(challengerMetadata, cancellationToken);
        var window = new PairedScores(champion, challenger, championMetadata.FeatureNames);
        await foreach (var prediction in tracking.ReadWindowAsync(championVersion, from, to, cancellationToken))
        {
            if (prediction.Label is OutcomeLabel.Positive or OutcomeLabel.Negative && prediction.Features.Length == championMetadata.FeatureNames.Count
                && heldOut.Contains(prediction.PatientId))
            {
                window.Add(prediction.Features, prediction.Label == OutcomeLabel.Positive);
            }
        }

        var (championOnWindow, challengerOnWindow) = window.Evaluate();
        if (policy.Enough(challengerOnWindow))
        {
            return new DecisionEvidence(DecisionEvidence.LabelledWindow,
                $"predictions of {championVersion} made from {from:O} to {to:O} for the {heldOut.Count} patients the challenger held out, with the labels monitoring gave them ({challengerOnWindow.Rows} labelled)",
                championOnWindow, challengerOnWindow, policy.Rule);
        }

        var test = new PairedScores(champion, challenger, challengerMetadata.FeatureNames);
        await foreach (var row in trainer.HeldOutAsync(challengerMetadata, heldOut, cancellationToken))
        {
            test.Add([.. row.Features.Select(v => (double)v)], row.Label);
        }

        var (championOnTest, challengerOnTest) = test.Evaluate();
        var data = challengerMetadata.TrainingData;
        return new DecisionEvidence(DecisionEvidence.HeldOut,
            $"the challenger's held-out test split (offline features {data.From:yyyy-MM-dd} to {data.To:yyyy-MM-dd}), because the labelled window held {challengerOnWindow.Rows} labelled predictions of those patients ({challengerOnWindow.Positives} positive), too few for the policy",
            championOnTest, challengerOnTest, policy.Rule);
    }

    private async Task<ModelDecision> RecordAsync(IModelRegistryGrain registry, ModelDecision decision)
    {
        await registry.RecordDecisionAsync(decision);
        LogRecorded(logger, decision.Outcome, decision.Version ?? "(none)", decision.Reason ?? "");
        return decision;
    }

    [LoggerMessage(LogLevel.Information, "Retraining: challenger {Challenger} against champion {Champion} on {Source}: promote {Promote}; {Reason}")]
    private static partial void LogVerdict(ILogger logger, string challenger, string champion, string source, bool promote, string reason);

    [LoggerMessage(LogLevel.Information, "Retraining recorded {Outcome} for {Version}: {Reason}")]
    private static partial void LogRecorded(ILogger logger, string outcome, string version, string reason);
}
