namespace ClinicalTrials.Trainer.Data;

/// <summary>Which held-out set a row belongs to.</summary>
public enum SplitName
{
    Train,
    Validation,
    Test,
}

/// <summary>
/// Assigns whole patients to train, validation and test (70/15/15 by patient count): rows of one patient are
/// correlated, so a patient in two sets would leak. The patients are ordered by ID and shuffled with the seed, so
/// the same patients and seed give the same split on any machine.
/// </summary>
public sealed class PatientSplit
{
    private readonly Dictionary<string, SplitName> _byPatient;

    private PatientSplit(Dictionary<string, SplitName> byPatient) => _byPatient = byPatient;

    public static PatientSplit Create(IEnumerable<string> patientIds, int seed, double trainShare = 0.70, double validationShare = 0.15)
    {
        var patients = patientIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(patients);
        var train = (int)Math.Round(patients.Length * trainShare, MidpointRounding.AwayFromZero);
        var validation = (int)Math.Round(patients.Length * validationShare, MidpointRounding.AwayFromZero);
        var byPatient = new Dictionary<string, SplitName>(patients.Length, StringComparer.Ordinal);
        for (var i = 0; i < patients.Length; i++)
        {
            byPatient[patients[i]] = i < train ? SplitName.Train : i < train + validation ? SplitName.Validation : SplitName.Test;
        }

        return new PatientSplit(byPatient);
    }

    public SplitName this[string patientId] => _byPatient[patientId];

    /// <summary>Patients per split.</summary>
    public int Count(SplitName split) => _byPatient.Values.Count(s => s == split);
}
