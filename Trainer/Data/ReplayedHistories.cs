using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;
using ClinicalTrials.Models.Metadata;

namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// Training rows computed from patients' message histories with <see cref="FeatureReplay"/>, the code the patient grain
/// runs online: one row per patient per whole hour, labelled by <see cref="OutcomeTimeline"/> under <paramref name="label"/>
/// (<see cref="LabelDefinition.Default"/> when not given), as the lake's rows are; censored hours are skipped.
/// The offline feature store's job builds its rows the same way; this source lets tests train on histories they make.
/// </summary>
public sealed class ReplayedHistories(string source, IReadOnlyDictionary<string, IReadOnlyList<ClinicalMessage>> histories, LabelDefinition? label = null)
    : ITrainingRows
{
    private readonly OutcomeTimeline _outcomes = new(label ?? LabelDefinition.Default,
        histories.Values.SelectMany(h => h).Select(m => m.Payload).OfType<AdverseEvent>());

    public LabelDefinition Label => _outcomes.Label;

    public string Source => source;

    public string FeatureVersion => FeatureCatalogue.Version;

    public IReadOnlyList<string> FeatureNames => FeatureCatalogue.Names;

    public async IAsyncEnumerable<TrainingRow> ReadAsync(DateOnly from, DateOnly to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        foreach (var patientId in histories.Keys.Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var history = histories[patientId];
            foreach (var vector in FeatureReplay.Hourly(history.ToList()))
            {
                var t = vector.AsOf!.Value;
                if (t < start || t >= end || _outcomes.At(patientId, t) is not { } positive)
                {
                    continue;
                }

                var features = new float[vector.Values.Count];
                for (var i = 0; i < features.Length; i++)
                {
                    features[i] = (float)vector.Values[i];
                }

                yield return new TrainingRow(patientId, t, features, positive, _outcomes.FirstOnset(patientId));
            }

            await Task.Yield();
        }
    }
}
