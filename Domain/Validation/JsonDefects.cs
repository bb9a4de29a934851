using System.Text;
using System.Text.Json;

namespace ClinicalTrials.Domain.Validation;

/// <summary>
/// Finds, with the path of each, what makes well-formed JSON unusable as a message but that <see cref="JsonDocument"/>
/// does not name: a key given twice in one object (at any depth), and a string whose escapes are not valid Unicode
/// (a lone surrogate such as <c>"\ud800"</c>), which the document accepts but cannot turn into text.
/// </summary>
/// <remarks>
/// Allocates a set of names per object: run it only on the rare bodies that need it (one that failed to parse, or
/// one holding a <c>\u</c> escape), never on every message.
/// </remarks>
internal static class JsonDefects
{
    /// <summary>The most defects reported for one body; the first are enough to correct it.</summary>
    public const int MaxReported = 20;

    /// <summary>The defects of a UTF-8 body, in document order; empty when it has none, or when its syntax breaks first.</summary>
    public static List<Violation> Find(ReadOnlySpan<byte> utf8Json, int maxDepth)
    {
        var violations = new List<Violation>();
        var path = new List<Level>();
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            // A body of one key repeated could otherwise answer with a violation per byte or so.
            while (violations.Count < MaxReported && reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        var level = path[^1];
                        level.Key = TryGetText(ref reader, out var name) ? name : null;
                        if (level.Key is null)
                        {
                            violations.Add(new Violation(PathOf(path), Rules.Json, "A key is not valid Unicode (a lone surrogate escape)."));
                        }
                        else if (!level.Keys!.Add(name))
                        {
                            violations.Add(new Violation(PathOf(path), Rules.DuplicateKey, $"'{name}' is given more than once; each field may appear once."));
                        }

                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        break;
                    default:
                        if (path.Count > 0 && path[^1].Keys is null)
                        {
                            path[^1].Index++;
                        }

                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                        {
                            path.Add(new Level(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null));
                        }
                        else if (reader.TokenType == JsonTokenType.String && !TryGetText(ref reader, out _))
                        {
                            violations.Add(new Violation(PathOf(path), Rules.Json, "The string is not valid Unicode (a lone surrogate escape)."));
                        }

                        break;
                }
            }
        }
        catch (JsonException)
        {
            // The syntax error is the document's to report; what was found before it still stands.
        }

        return violations;
    }

    // The body is valid UTF-8 (the parser checks it first), so only an escape can make a string invalid.
    private static bool TryGetText(ref Utf8JsonReader reader, out string text)
    {
        try
        {
            text = reader.ValueIsEscaped ? reader.GetString()! : Encoding.UTF8.GetString(reader.ValueSpan);
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    private static string PathOf(List<Level> path)
    {
        var text = new StringBuilder();
        foreach (var level in path)
        {
            if (level.Keys is null)
            {
                text.Append('[').Append(level.Index).Append(']');
            }
            else if (level.Key is not null)
            {
                text.Append(text.Length == 0 ? "" : ".").Append(level.Key);
            }
        }

        return text.Length == 0 ? "$" : text.ToString();
    }

    /// <summary>One open object (its keys so far and the current one) or array (the current index).</summary>
    private sealed class Level(HashSet<string>? keys)
    {
        public HashSet<string>? Keys { get; } = keys;

        public string? Key { get; set; }

        public int Index { get; set; } = -1;
    }
}
