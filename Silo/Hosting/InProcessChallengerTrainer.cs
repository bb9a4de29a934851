using System.Globalization;
using System.Runtime.CompilerServices;
using ClinicalTrials.Grains.Retraining;
using ClinicalTrials.Lake;
using ClinicalTrials.Models.Metadata;
using ClinicalTrials.Models.Scoring;
using ClinicalTrials.Models.Tracking;
using ClinicalTrials.Trainer;
using ClinicalTrials.Trainer.Data;
using ClinicalTrials.Trainer.Registration;
using ClinicalTrials.Trainer.Training;
using Microsoft.Extensions.Options;

namespace ClinicalTrials.Silo.Hosting;

/// <summary>
/// The retraining job's trainer: the Trainer project's own <see cref="TrainingJob"/> (the code <c>dotnet run --project
/// Trainer -- train</c> runs) called in process, on the offline feature store of the silo's lake. It writes the artifacts
/// to a scratch folder, copies them to the lake's <c>models/{version}/</c> (metadata.json last, the
/// <see cref="StorageRegistrar"/> the command line uses without <c>--api</c>) and records the run in the tracking database.
/// The silo hosts it because it is the one project that references both the grains and the trainer (see
/// <see cref="IChallengerTrainer"/>).
/// </summary>
internal sealed class InProcessChallengerTrainer(
    LakeContext lake, ITrackingStore tracking, IOptions<RetrainingOptions> options, IOptions<RiskThresholds> thresholds, TimeProvider clock)
    : IChallengerTrainer
{
    public async Task<TrainedChallenger> TrainAsync(LabelDefinition label, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var to = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var from = to.AddDays(1 - settings.TrainingDays);
        var parameters = new TrainerParameters(settings.Seed, settings.Trees, settings.Leaves, settings.MinExamplesPerLeaf);
        var scratch = Directory.CreateTempSubdirectory("clinical-retraining-");
        try
        {
            var rows = await LakeTrainingRows.OpenAsync(lake.Storage, from, to, label, cancellationToken);
            var job = new TrainingJob(rows, scratch.FullName, parameters, thresholds.Value, new StorageRegistrar(lake.Storage), tracking, time: clock);
            var result = await job.RunAsync(from, to, version: null, cancellationToken);
            return new TrainedChallenger(result.Metadata.Version, ModelArtifacts.OnnxHash(result.Onnx));
        }
        catch (TrainingException e)
        {
            throw new ChallengerTrainingException(e.Message, e);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    public async IAsyncEnumerable<HeldOutRow> HeldOutAsync(
        ModelMetadata challenger, IReadOnlySet<string> heldOutPatients, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var data = challenger.TrainingData;
        var rows = await LakeTrainingRows.OpenAsync(lake.Storage, data.From, data.To, challenger.LabelOrLegacy, cancellationToken);
        await foreach (var row in rows.ReadAsync(data.From, data.To, cancellationToken))
        {
            if (heldOutPatients.Contains(row.PatientId))
            {
                yield return new HeldOutRow(row.Features, row.Label);
            }
        }
    }

    /// <summary>The split is a function of the range's patients and the seed (<see cref="PatientSplit"/>): the patients are read, then split as training split them.</summary>
    public async Task<IReadOnlySet<string>> HeldOutPatientsAsync(ModelMetadata challenger, CancellationToken cancellationToken)
    {
        var data = challenger.TrainingData;
        var rows = await LakeTrainingRows.OpenAsync(lake.Storage, data.From, data.To, challenger.LabelOrLegacy, cancellationToken);
        var patients = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in rows.ReadAsync(data.From, data.To, cancellationToken))
        {
            patients.Add(row.PatientId);
        }

        var seed = challenger.Parameters.TryGetValue("seed", out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : options.Value.Seed;
        var split = PatientSplit.Create(patients, seed);
        return patients.Where(patient => split[patient] == SplitName.Test).ToHashSet(StringComparer.Ordinal);
    }
}
