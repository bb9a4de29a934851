using System.Text.RegularExpressions;
using ClinicalTrials.Domain.Features;

namespace ClinicalTrials.Domain.Tests.Features;

public sealed class FeatureCatalogueTests
{
    [Fact]
    public void Catalogue_has_at_least_120_uniquely_named_features()
    {
        Assert.True(FeatureCatalogue.Count >= 120, $"only {FeatureCatalogue.Count} features");
        Assert.Equal(FeatureCatalogue.Count, FeatureCatalogue.Names.Distinct().Count());
        Assert.All(FeatureCatalogue.Names, n => Assert.Matches("^[a-z0-9_]+$", n));
        Assert.Equal(FeatureCatalogue.Count, new PatientFeatureState().Current.Values.Count);
    }

    [Fact]
    public void Version_is_v1_and_eight_hex_digits_of_the_definitions_hash()
    {
        Assert.Matches("^v1-[0-9a-f]{8}$", FeatureCatalogue.Version);
        Assert.Equal(FeatureCatalogue.Version, FeatureCatalogue.ComputeVersion(FeatureCatalogue.Definitions));
        Assert.Equal(FeatureCatalogue.Version, new PatientFeatureState().Current.Version);
    }

    [Fact]
    public void Changing_a_definition_changes_the_version()
    {
        var definitions = FeatureCatalogue.Definitions.ToArray();
        var index = FeatureCatalogue.IndexOf("shock_index");
        var changedDefinition = definitions.ToArray();
        changedDefinition[index] = definitions[index] with { Definition = "heart_rate_mean_1h / systolic_bp_mean_1h" };
        var changedWindow = definitions.ToArray();
        changedWindow[index] = definitions[index] with { Window = "6h" };

        Assert.NotEqual(FeatureCatalogue.Version, FeatureCatalogue.ComputeVersion(changedDefinition));
        Assert.NotEqual(FeatureCatalogue.Version, FeatureCatalogue.ComputeVersion(changedWindow));
        Assert.NotEqual(FeatureCatalogue.Version, FeatureCatalogue.ComputeVersion(definitions.Reverse()));
    }

    [Fact]
    public void Vector_turns_into_a_name_to_value_dictionary()
    {
        var state = new PatientFeatureState();
        state.Apply(TestMessages.Vitals(TestMessages.T0, heartRate: 72));

        var byName = state.Current.ToDictionary();

        Assert.Equal(FeatureCatalogue.Names, byName.Keys);
        Assert.Equal(72, byName["heart_rate_last"]);
        Assert.Equal(state.Current.Values[FeatureCatalogue.IndexOf("heart_rate_last")], byName["heart_rate_last"]);
    }

    [Fact]
    public void Docs_table_matches_the_catalogue_row_for_row()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "features.md");
        var rows = File.ReadAllLines(path)
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .ToArray();
        var expected = FeatureCatalogue.Definitions.Select(Row).ToArray();

        if (!rows.SequenceEqual(expected))
        {
            File.WriteAllLines(path + ".expected", expected);
        }

        Assert.Equal(expected, rows);
        Assert.Contains(FeatureCatalogue.Version, File.ReadAllText(path), StringComparison.Ordinal);
    }

    private static string Row(FeatureDefinition d) =>
        $"| `{d.Name}` | {Escape(d.Definition)} | {d.Window} | {Escape(d.Unit)} | {Escape(d.MissingRule)} |";

    private static string Escape(string text) => Regex.Replace(text, @"([|*_<>])", @"\$1");

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Directory.Build.props")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("No Directory.Build.props above the test binaries.");
    }
}
