using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ClinicalTrials.Deploy.Tests;

/// <summary>The instructions of deploy/Dockerfile that the tests check, per build stage (line continuations joined).</summary>
internal sealed partial record Dockerfile(IReadOnlyList<Dockerfile.Instruction> Instructions)
{
    public sealed record Instruction(string Stage, string Keyword, string Arguments);

    public static Dockerfile Parse(string text)
    {
        var instructions = new List<Instruction>();
        var stage = "";
        var logical = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            logical += line.EndsWith('\\') ? line[..^1] + " " : line;
            if (line.EndsWith('\\') || string.IsNullOrWhiteSpace(logical))
            {
                continue;
            }

            var match = InstructionPattern().Match(logical.Trim());
            logical = "";
            var keyword = match.Groups[1].Value.ToUpperInvariant();
            var arguments = Regex.Replace(match.Groups[2].Value, @"\s+", " ").Trim();
            if (keyword == "FROM")
            {
                stage = arguments.Split(' ') is [.., "AS" or "as", var name] ? name : arguments;
            }

            instructions.Add(new Instruction(stage, keyword, arguments));
        }

        return new Dockerfile(instructions);
    }

    /// <summary>The stage the image is made of: the last one.</summary>
    public string FinalStage => Instructions[^1].Stage;

    public IEnumerable<string> Final(string keyword) =>
        Instructions.Where(i => i.Stage == FinalStage && i.Keyword == keyword).Select(i => i.Arguments);

    public IEnumerable<string> InStage(string stage, string keyword) =>
        Instructions.Where(i => i.Stage == stage && i.Keyword == keyword).Select(i => i.Arguments);

    /// <summary>The image's environment (<c>ENV a=b c=d</c> forms).</summary>
    public IReadOnlyDictionary<string, string> Environment =>
        Final("ENV").SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : "");

    public IReadOnlyList<string> EntryPoint => JsonSerializer.Deserialize<string[]>(Final("ENTRYPOINT").Single())!;

    public IReadOnlySet<int> ExposedPorts =>
        Final("EXPOSE").SelectMany(e => e.Split(' ')).Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture)).ToHashSet();

    public TimeSpan ShutdownTimeout =>
        TimeSpan.FromSeconds(int.Parse(Environment["DOTNET_shutdownTimeoutSeconds"], CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(\w+)\s*(.*)$", RegexOptions.Singleline)]
    private static partial Regex InstructionPattern();
}
