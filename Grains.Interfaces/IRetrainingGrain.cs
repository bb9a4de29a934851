using Orleans.Concurrency;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// The retraining job, keyed "default": trains a challenger on the latest offline features, evaluates it beside the
/// production model (the champion) on the same labelled rows, and promotes it only when the promotion policy says so;
/// every outcome is recorded in the model registry's decisions (docs/monitoring.md, Retraining). One activation in the
/// cluster, one run at a time. Started by a monitoring alert, by its reminder (<c>Retraining:ScheduleEnabled</c>) or
/// by <c>POST /api/models/retrain</c>.
/// </summary>
[Alias("retraining")]
public interface IRetrainingGrain : IGrainWithStringKey
{
    /// <summary>(Re)registers the reminder with the configured period; the silo calls it at start when the schedule is on.</summary>
    [Alias("start")]
    Task StartAsync();

    /// <summary>Runs one retraining to its end and returns the decision it recorded.</summary>
    [Alias("retrain")]
    [ResponseTimeout("04:00:00")]
    Task<ModelDecision> RetrainAsync(ModelTrigger trigger);

    /// <summary>
    /// When the last retraining (of any trigger, whatever its outcome) started; null before the first. Answered while a
    /// retraining runs, so that a monitoring run can apply the cooldown without waiting for it.
    /// </summary>
    [Alias("last-started"), AlwaysInterleave]
    Task<DateTimeOffset?> LastStartedAsync();
}

/// <summary>Who or what asked for a registry change.</summary>
/// <param name="Kind"><see cref="User"/>, <see cref="Alert"/> or <see cref="Schedule"/>.</param>
/// <param name="By">The caller's principal (a key's or token's subject), the alerts and their monitoring run, or the reminder.</param>
[GenerateSerializer, Immutable, Alias("model-trigger")]
public sealed record ModelTrigger([property: Id(0)] string Kind, [property: Id(1)] string By)
{
    public const string User = "user";
    public const string Alert = "alert";
    public const string Schedule = "schedule";
}

/// <summary>
/// One decision about which model serves, as the registry records it: a promotion or rollback by hand, or a retraining
/// and what became of its challenger.
/// </summary>
/// <param name="At">When it was decided.</param>
/// <param name="Action"><c>promote</c>, <c>rollback</c> or <c>retrain</c>.</param>
/// <param name="Trigger">Who or what asked.</param>
/// <param name="Version">The model decided about: the one promoted, the one production returned to, or the challenger (null when training failed).</param>
/// <param name="Champion">The production model before the decision, if any.</param>
/// <param name="Outcome">See <see cref="DecisionOutcomes"/>.</param>
/// <param name="Reason">Why, in one line: the policy's verdict, the refusal or the failure.</param>
/// <param name="Evidence">For a retraining that compared the two models: what they were compared on, their metrics and the rule.</param>
[GenerateSerializer, Immutable, Alias("model-decision")]
public sealed record ModelDecision(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Action,
    [property: Id(2)] ModelTrigger Trigger,
    [property: Id(3)] string? Version,
    [property: Id(4)] string? Champion,
    [property: Id(5)] string Outcome,
    [property: Id(6)] string? Reason,
    [property: Id(7)] DecisionEvidence? Evidence)
{
    public const string Promote = "promote";
    public const string Rollback = "rollback";
    public const string Retrain = "retrain";
}

/// <summary>Outcome names of a <see cref="ModelDecision"/>.</summary>
public static class DecisionOutcomes
{
    /// <summary>The model became production.</summary>
    public const string Promoted = "promoted";

    /// <summary>Production returned to the previous model.</summary>
    public const string RolledBack = "rolled_back";

    /// <summary>The challenger stays in staging: the policy did not promote it (the reason says which rule).</summary>
    public const string KeptStaging = "kept_staging";

    /// <summary>The platform would not serve the model (it failed to load); production is unchanged.</summary>
    public const string Refused = "refused";

    /// <summary>The retraining could not produce a challenger (no rows, one class only, the store away).</summary>
    public const string Failed = "failed";
}

/// <summary>What champion and challenger were compared on, how each did, and the rule applied.</summary>
/// <param name="Source"><see cref="LabelledWindow"/> or <see cref="HeldOut"/>.</param>
/// <param name="Detail">The rows in words: the window and its model version, or the training range of the held-out split.</param>
/// <param name="Champion">The production model's metrics on those rows.</param>
/// <param name="Challenger">The challenger's metrics on the same rows.</param>
/// <param name="Rule">The promotion policy, in words, with its thresholds.</param>
[GenerateSerializer, Immutable, Alias("decision-evidence")]
public sealed record DecisionEvidence(
    [property: Id(0)] string Source,
    [property: Id(1)] string Detail,
    [property: Id(2)] ModelEvaluation Champion,
    [property: Id(3)] ModelEvaluation Challenger,
    [property: Id(4)] string Rule)
{
    /// <summary>The production model's recent logged predictions with the labels monitoring gave them.</summary>
    public const string LabelledWindow = "labelled_window";

    /// <summary>The challenger's held-out test split (used when the window has too few labels).</summary>
    public const string HeldOut = "held_out";
}

/// <summary>A model's metrics on a set of labelled rows; a metric that cannot be computed (one class only) is null.</summary>
[GenerateSerializer, Immutable, Alias("model-evaluation")]
public sealed record ModelEvaluation(
    [property: Id(0)] long Rows,
    [property: Id(1)] long Positives,
    [property: Id(2)] double? Auroc,
    [property: Id(3)] double? Brier,
    [property: Id(4)] double? ExpectedCalibrationError);
