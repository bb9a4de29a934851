using YamlDotNet.RepresentationModel;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>Reading YAML documents as plain trees; a missing key fails with the path that was looked for.</summary>
internal static class Yaml
{
    public static IReadOnlyList<YamlMappingNode> Documents(string text)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(text);
        stream.Load(reader);
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    public static YamlNode? Find(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    public static YamlNode Get(this YamlNode node, params string[] path) =>
        node.Find(path) ?? throw new KeyNotFoundException($"No '{string.Join('.', path)}' in the YAML.");

    public static YamlMappingNode Map(this YamlNode node, params string[] path) =>
        node.Get(path) as YamlMappingNode ?? throw new InvalidDataException($"'{string.Join('.', path)}' is not a mapping.");

    public static IReadOnlyList<YamlNode> List(this YamlNode node, params string[] path) =>
        node.Find(path) is YamlSequenceNode sequence ? sequence.Children.ToList() : [];

    public static string Text(this YamlNode node, params string[] path) =>
        node.Get(path) is YamlScalarNode { Value: { } value } ? value : throw new InvalidDataException($"'{string.Join('.', path)}' is not a scalar.");

    public static string? TextOrNull(this YamlNode node, params string[] path) => (node.Find(path) as YamlScalarNode)?.Value;

    /// <summary>A mapping of scalars (an environment, labels, a ConfigMap's data) as a dictionary.</summary>
    public static Dictionary<string, string> Pairs(this YamlNode node, params string[] path) =>
        node.Map(path).Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => (p.Value as YamlScalarNode)?.Value ?? "");

    public static IEnumerable<string> Keys(this YamlMappingNode node) => node.Children.Keys.Select(k => ((YamlScalarNode)k).Value!);
}
