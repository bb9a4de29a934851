using System.Runtime.CompilerServices;
using ClinicalTrials.Domain.Features;
using ClinicalTrials.Domain.Messages;

namespace ClinicalTrials.Trainer.Data;

/// <summary>
/// Training rows computed from patients' message histories with <see cref="FeatureReplay"/>, the code the patient grain
/// runs online: one row per patient per whole hour, labelled by whether an adverse event has its onset in the next 24 h (the lake's label).
/// The offline feature store's job builds its rows the same way; this source lets tests (and a platform without the
/// lake) train without it.
/// </summary>
public sealed class ReplayedHistories(string source, IReadOnlyDictionary<string, IReadOnlyList<ClinicalMessage>> histories) : ITrainingRows
{
    private static readonly TimeSpan Horizon = TimeSpan.FromHours(24);

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
            // Onset, as the lake's offline-features job labels: an onset in (t, t + 24 h].
            var events = history.Select(m => m.Payload).OfType<AdverseEvent>().Select(e => e.Onset).ToArray();
            foreach (var vector in FeatureReplay.Hourly(history.ToList()))
            {
                var t = vector.AsOf!.Value;
                if (t < start || t >= end)
                {
                    continue;
                }

                var label = events.Any(e => e > t && e <= t + Horizon);
                var features = new float[vector.Values.Count];
                for (var i = 0; i < features.Length; i++)
                {
                    features[i] = (float)vector.Values[i];
                }

                yield return new TrainingRow(patientId, t, features, label);
            }

            await Task.Yield();
        }
    }
}
