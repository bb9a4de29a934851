namespace ClinicalTrials.Grains;

/// <summary>Names of the grain storage providers the grains ask for.</summary>
public static class StorageNames
{
    /// <summary>Patient and model snapshots.</summary>
    public const string Clinical = "clinical";
}
