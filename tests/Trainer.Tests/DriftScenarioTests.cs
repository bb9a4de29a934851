using System.Collections.Immutable;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Monitoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer.Data;

namespace ClinicalTrials.Trainer.Tests;

/// <summary>
/// Drift monitoring against the generator: the reference of days 1-2 of a synthetic trial, as the trainer stores it,
/// against the features served in its days 3-4 (no alert on the features the shift moves), and in days 3-4
/// of the same trial generated with <c>--shift 1</c> (older patients, changed labs): those features are named.
/// </summary>
public sealed class DriftScenarioTests
{
    private static readonly MonitoringPolicy Policy = new(MinLabelled: 200, MinPerClass: 20, MinAuroc: 0.80, MaxFeaturePsi: 0.25, MaxScorePsi: 0.2);
    private static readonly string[] Shifted = ["age_years", "gluc_last", "creat_last", "hgb_last"];

    /// <summary>Every hour is served, also after a patient's event: censoring would thin the later days by who had one.</summary>
    private static readonly LabelDefinition Uncensored = LabelDefinition.Default with { CensorAfterFirstEvent = false };

    /// <summary>
    /// The trial's rows of days 1-2 and of days 3-4; day 0 is left out, as its features are still filling (a lab's last
    /// value is missing until the patient's first lab result), which is no drift of the population.
    /// </summary>
    private static async Task<(List<TrainingRow> First, List<TrainingRow> Next)> RowsAsync(double shift)
    {
        var histories = SyntheticHistories.Create(seed: 11, patients: 100, messages: 7500, days: 5, shift: shift);
        var (first, middle) = (SyntheticHistories.Start.AddDays(1), SyntheticHistories.Start.AddDays(3));
        var rows = new List<TrainingRow>();
        await foreach (var row in new ReplayedHistories("synthetic", histories, Uncensored).ReadAsync(SyntheticHistories.FirstDay, SyntheticHistories.LastDay(5), CancellationToken.None))
        {
            rows.Add(row);
        }

        return ([.. rows.Where(r => r.Timestamp >= first && r.Timestamp < middle)], [.. rows.Where(r => r.Timestamp >= middle)]);
    }

    private static ModelWindowReport Serve(TrainingReference reference, IEnumerable<TrainingRow> rows)
    {
        var window = new ModelWindow("m1", reference, _ => null);
        foreach (var row in rows)
        {
            window.Add(new MonitoredPrediction(row.PatientId, 0.1, "LOW", [.. row.Features.Select(v => (double)v)], null));
        }

        return window.Report(Policy);
    }

    [Fact]
    public async Task A_shifted_population_is_detected_and_its_features_named()
    {
        var (training, next) = await RowsAsync(shift: 0);
        var (_, nextShifted) = await RowsAsync(shift: 1);
        var reference = new TrainingReference(
            [.. FeatureCatalogue.Names.Select((name, f) => ReferenceDistribution.FromSample(name, training.Select(r => r.Features[f])))],
            ReferenceDistribution.FromSample(ReferenceDistribution.ScoreName, training.Select(_ => 0.1f)));

        var stable = Serve(reference, next);
        var shifted = Serve(reference, nextShifted);

        double Psi(ModelWindowReport report, string feature) => report.Drift!.Features.Single(f => f.Name == feature).Psi!.Value;
        var stableAlerts = Policy.Alerts(stable).Where(a => a.Kind == "feature_psi").Select(a => a.Subject).ToHashSet();
        var shiftedAlerts = Policy.Alerts(shifted).Where(a => a.Kind == "feature_psi").Select(a => a.Subject).ToHashSet();
        Assert.All(Shifted, feature => Assert.DoesNotContain(feature, stableAlerts));
        Assert.All(Shifted, feature => Assert.Contains(feature, shiftedAlerts));
        Assert.All(Shifted, feature => Assert.True(Psi(shifted, feature) > 4 * Psi(stable, feature), $"{feature}: {Psi(shifted, feature)} against {Psi(stable, feature)}"));
        // The top drifting feature is one the shift moves (a lab's baseline or window statistics move with its last value).
        var top = shifted.Drift!.Features[0].Name;
        Assert.True(Shifted.Any(feature => top.StartsWith(feature.Split('_')[0] + "_", StringComparison.Ordinal)), top);
    }
}
