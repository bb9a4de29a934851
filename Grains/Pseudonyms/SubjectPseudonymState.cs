namespace ClinicalTrials.Grains.Pseudonyms;

/// <summary>The pseudonymisation key: 32 random bytes, made once; changing it would give every subject a new patient id.</summary>
[GenerateSerializer, Alias("subject-pseudonym-state")]
public sealed class SubjectPseudonymState
{
    [Id(0)]
    public byte[] Key { get; set; } = [];
}
