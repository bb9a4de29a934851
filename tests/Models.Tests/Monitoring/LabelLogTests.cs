using System.Collections.Immutable;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;

namespace ClinicalTrials.Models.Tests.Monitoring;

/// <summary>The labelling pass of a monitoring run over a real SQLite prediction log.</summary>
public sealed class LabelLogTests : IDisposable
{
    private static readonly DateTimeOffset T = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly LabelDefinition Day = new("any", 24, true);
    private static readonly TimeSpan Grace = TimeSpan.FromHours(12);
    private const string Septic = "PT12AB34CD";
    private const string Healthy = "PT56EF78GH";

    private readonly string _directory = Directory.CreateTempSubdirectory("label-log-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_pass_labels_what_it_can_writes_only_changes_and_a_late_event_relabels()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new SqliteTrackingStore(Path.Combine(_directory, TrackingStore.SqliteFileName));
        await store.InitializeAsync(ct);
        // The septic patient: 10 h before onset (positive), at onset + 1 h (censored); the healthy one: 40 h before now
        // (horizon and grace passed: negative) and 2 h before now (still pending).
        var now = T.AddHours(40);
        var predictions = new[]
        {
            Prediction(Septic, T.AddHours(-10)), Prediction(Septic, T.AddHours(1)),
            Prediction(Healthy, now.AddHours(-40)), Prediction(Healthy, now.AddHours(-2)),
        };
        await store.WritePredictionsAsync(predictions, ct);
        List<AdverseEvent> events = [Event(Septic, T)];

        var first = await OutcomeLabels.LabelLogAsync(store, events, _ => Task.FromResult(Day), T.AddDays(-3), Grace, now, ct);
        var again = await OutcomeLabels.LabelLogAsync(store, events, _ => Task.FromResult(Day), T.AddDays(-3), Grace, now, ct);

        Assert.Equal(new LabellingSummary(4, 3, 0, 1, 1), first);
        Assert.Equal(new LabellingSummary(4, 0, 0, 1, 1), again);
        var labels = await Labels(store, ct);
        Assert.Equal(OutcomeLabel.Positive, labels[predictions[0].Id].Label);
        Assert.Equal(T, labels[predictions[0].Id].EventOnset);
        Assert.Equal(OutcomeLabel.Censored, labels[predictions[1].Id].Label);
        Assert.Equal(OutcomeLabel.Negative, labels[predictions[2].Id].Label);
        Assert.False(labels.ContainsKey(predictions[3].Id));

        // The healthy patient's event, reported late with onset 20 h after the first prediction, turns its negative positive.
        events.Add(Event(Healthy, now.AddHours(-20)));
        var late = await OutcomeLabels.LabelLogAsync(store, events, _ => Task.FromResult(Day), T.AddDays(-3), Grace, now.AddHours(1), ct);

        Assert.Equal(1, late.Relabelled);
        Assert.Equal(OutcomeLabel.Positive, (await Labels(store, ct))[predictions[2].Id].Label);
    }

    private static async Task<Dictionary<Guid, PredictionOutcome>> Labels(ITrackingStore store, CancellationToken ct) =>
        (await store.ReadOutcomesAsync(null, T.AddDays(-3), T.AddDays(3), 100, ct)).ToDictionary(p => p.PredictionId, p => p.Outcome);

    private static PredictionRecord Prediction(string patient, DateTimeOffset at) =>
        new(Guid.NewGuid(), patient, at, 0.5, "MEDIUM", "v1", 1, "features-v1", at, ImmutableArray<double>.Empty);

    private static AdverseEvent Event(string patient, DateTimeOffset onset) =>
        new(patient, "SEPSIS", Severity.Severe, true, DrugRelation.NotRelated, onset);
}
