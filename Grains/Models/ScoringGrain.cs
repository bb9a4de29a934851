using System.Collections.Immutable;
using ClinicalTrials.Grains.Interfaces;
using Orleans.Concurrency;

namespace ClinicalTrials.Grains.Models;

/// <inheritdoc cref="IScoringGrain"/>
/// <remarks>Reentrant: it holds no state, so one activation may wait on several patients' features at once.</remarks>
[StatelessWorker, Reentrant]
public sealed class ScoringGrain(ModelHost host, IGrainFactory grains) : Grain, IScoringGrain
{
    public async Task<ScoringOutcome> ScoreAsync(ImmutableArray<string> patientIds)
    {
        var features = patientIds.Length == 1
            ? [await grains.Patient(patientIds[0]).GetFeaturesAsync()]
            : await Task.WhenAll(patientIds.Select(id => grains.Patient(id).GetFeaturesAsync()));

        if (await host.AcquireAsync() is not { } loaded)
        {
            return new ScoringOutcome(null, []);
        }

        try
        {
            var model = loaded.Model;
            var scores = ImmutableArray.CreateBuilder<PatientScore>(patientIds.Length);
            for (var i = 0; i < patientIds.Length; i++)
            {
                scores.Add(features[i] is { } f
                    ? new PatientScore(patientIds[i], true, model.Score(f.Values.AsSpan()), f.AsOf, f.FeatureVersion, f.Values)
                    : new PatientScore(patientIds[i], false, double.NaN, null, null, []));
            }

            return new ScoringOutcome(model.Version, scores.MoveToImmutable());
        }
        finally
        {
            ModelHost.Release(loaded);
        }
    }
}
