using System.Security.Cryptography;
using System.Text;

namespace ClinicalTrials.Domain.Features;

/// <summary>
/// The per-patient feature set: its names in vector order, their definitions (documented in docs/features.md)
/// and a version that changes whenever any name, definition, window, unit or missing-value rule changes.
/// A model records the version it was trained on; serving must refuse vectors of another version.
/// </summary>
public static class FeatureCatalogue
{
    /// <summary>Every feature, in the order of <see cref="FeatureVector.Values"/>.</summary>
    public static IReadOnlyList<FeatureDefinition> Definitions { get; } = FeatureDefinitions.Build().ToArray();

    /// <summary>The feature names, in vector order.</summary>
    public static IReadOnlyList<string> Names { get; } = Definitions.Select(d => d.Name).ToArray();

    public static int Count => Names.Count;

    /// <summary>"v1-" and the first 8 hex digits of SHA-256 over the definitions (see <see cref="ComputeVersion"/>).</summary>
    public static string Version { get; } = ComputeVersion(Definitions);

    private static readonly Dictionary<string, int> IndexByName =
        Names.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);

    /// <summary>The position of <paramref name="name"/> in a vector; throws for an unknown name.</summary>
    public static int IndexOf(string name) =>
        IndexByName.TryGetValue(name, out var index) ? index : throw new KeyNotFoundException($"No feature is named '{name}'.");

    /// <summary>
    /// The version of a set of definitions: every field of every definition, in order, one line each, hashed.
    /// Public so that a test (or a migration tool) can show how a changed definition changes it.
    /// </summary>
    public static string ComputeVersion(IEnumerable<FeatureDefinition> definitions)
    {
        var text = new StringBuilder();
        foreach (var d in definitions)
        {
            text.Append(d.Name).Append('\t').Append(d.Definition).Append('\t').Append(d.Window).Append('\t')
                .Append(d.Unit).Append('\t').Append(d.MissingRule).Append('\n');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return "v1-" + Convert.ToHexStringLower(hash.AsSpan(0, 4));
    }
}
