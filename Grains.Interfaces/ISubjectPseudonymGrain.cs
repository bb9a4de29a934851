using System.Collections.Immutable;

namespace ClinicalTrials.Grains.Interfaces;

/// <summary>
/// Turns a sponsor's subject identifiers (CDISC USUBJID) into our pseudonymous patient ids: a keyed hash, so the same
/// subject always gets the same id and nobody without the key can tell which subject an id belongs to. The key is
/// made at random on first use and kept in the grain's persisted state; it never leaves the grain. One activation,
/// key <see cref="Default"/>.
/// </summary>
[Alias("subject-pseudonyms")]
public interface ISubjectPseudonymGrain : IGrainWithStringKey
{
    public const string Default = "default";

    /// <summary>The patient id (<c>PT</c> + 8 upper-case letters or digits) of each subject, in order.</summary>
    [Alias("pseudonymise")]
    Task<ImmutableArray<string>> PseudonymiseAsync(ImmutableArray<string> subjects);
}
