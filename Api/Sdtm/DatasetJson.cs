using System.Text.Json;

namespace ClinicalTrials.Api.Sdtm;

/// <summary>
/// One CDISC Dataset-JSON v1.1 dataset as read: its name (the SDTM domain), the system that made it, its column names
/// and its rows, each an array of values in column order. Read from the JSON form (one object with <c>rows</c>) or the
/// NDJSON form (the metadata object on the first line, then one row array per line).
/// </summary>
internal sealed class DatasetJson : IDisposable
{
    private readonly List<JsonDocument> _documents = [];

    private DatasetJson(string name, string? sourceSystem, string[] columns)
    {
        Name = name;
        SourceSystem = sourceSystem;
        Columns = columns;
        _index = columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.OrdinalIgnoreCase);
    }

    private readonly Dictionary<string, int> _index;

    public string Name { get; }

    /// <summary><c>sourceSystem.name</c>, when given.</summary>
    public string? SourceSystem { get; }

    public string[] Columns { get; }

    public List<JsonElement> Rows { get; } = [];

    /// <summary>The position of a variable, or -1 when the dataset has no such column.</summary>
    public int Column(string name) => _index.GetValueOrDefault(name, -1);

    /// <summary>
    /// The dataset in <paramref name="body"/>, JSON or NDJSON (told apart by whether the first line is the whole body).
    /// Throws <see cref="DatasetJsonException"/> naming the attribute or row that breaks the format.
    /// </summary>
    public static DatasetJson Read(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        var firstLineEnd = span.IndexOf((byte)'\n');
        var ndjson = firstLineEnd >= 0 && span[(firstLineEnd + 1)..].Trim(" \t\r\n"u8).Length > 0 && StartsWithArray(span[(firstLineEnd + 1)..]);
        var metadataBytes = ndjson ? body[..firstLineEnd] : body;
        var metadata = Parse(metadataBytes, ndjson ? "line 1" : "$");
        var dataset = FromMetadata(metadata);
        try
        {
            if (ndjson)
            {
                var rest = body[(firstLineEnd + 1)..];
                var line = 2;
                while (rest.Length > 0)
                {
                    var end = rest.Span.IndexOf((byte)'\n');
                    var text = end < 0 ? rest : rest[..end];
                    rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
                    if (text.Span.Trim(" \t\r"u8).Length > 0)
                    {
                        var row = Parse(text, $"line {line}");
                        dataset._documents.Add(row);
                        dataset.AddRow(row.RootElement, $"line {line}");
                    }

                    line++;
                }
            }
            else if (metadata.RootElement.TryGetProperty("rows", out var rows))
            {
                if (rows.ValueKind != JsonValueKind.Array)
                {
                    throw new DatasetJsonException("rows", "'rows' must be an array of row arrays.");
                }

                var index = 0;
                foreach (var row in rows.EnumerateArray())
                {
                    dataset.AddRow(row, $"rows[{index++}]");
                }
            }

            if (metadata.RootElement.TryGetProperty("records", out var records) && records.TryGetInt32(out var count) && count != dataset.Rows.Count)
            {
                throw new DatasetJsonException("records", $"'records' says {count} rows; the dataset holds {dataset.Rows.Count}.");
            }

            return dataset;
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    private static bool StartsWithArray(ReadOnlySpan<byte> text)
    {
        var trimmed = text.TrimStart(" \t\r\n"u8);
        return trimmed.Length > 0 && trimmed[0] == (byte)'[';
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> text, string where)
    {
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new DatasetJsonException(where, $"Not valid JSON: {e.Message}");
        }
    }

    private static DatasetJson FromMetadata(JsonDocument metadata)
    {
        var root = metadata.RootElement;
        try
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetJsonException("$", "A Dataset-JSON dataset is an object (in NDJSON, the first line).");
            }

            var version = Text(root, "datasetJSONVersion");
            if (version != "1.1" && !version.StartsWith("1.1.", StringComparison.Ordinal))
            {
                throw new DatasetJsonException("datasetJSONVersion", $"Dataset-JSON version '{version}' is not taken: send version 1.1.");
            }

            var name = Text(root, "name");
            if (!root.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array || columns.GetArrayLength() == 0)
            {
                throw new DatasetJsonException("columns", "'columns' is required: the dataset's variables, in row order.");
            }

            var names = new string[columns.GetArrayLength()];
            var i = 0;
            foreach (var column in columns.EnumerateArray())
            {
                names[i] = column.ValueKind == JsonValueKind.Object && column.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                    ? n.GetString()!
                    : throw new DatasetJsonException($"columns[{i}].name", "Each column needs its variable 'name'.");
                i++;
            }

            var source = root.TryGetProperty("sourceSystem", out var system) && system.ValueKind == JsonValueKind.Object
                && system.TryGetProperty("name", out var sourceName) && sourceName.ValueKind == JsonValueKind.String
                ? sourceName.GetString()
                : null;
            var dataset = new DatasetJson(name.ToUpperInvariant(), source, names);
            dataset._documents.Add(metadata);
            return dataset;
        }
        catch
        {
            metadata.Dispose();
            throw;
        }
    }

    private static string Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new DatasetJsonException(name, $"'{name}' is required (a non-empty string).");

    private void AddRow(JsonElement row, string where)
    {
        if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != Columns.Length)
        {
            throw new DatasetJsonException(where, $"Each row must be an array of {Columns.Length} values, one per column.");
        }

        var i = 0;
        foreach (var value in row.EnumerateArray())
        {
            if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                throw new DatasetJsonException($"{where}[{i}]", $"The value of {Columns[i]} must be a string, number, boolean or null.");
            }

            i++;
        }

        Rows.Add(row);
    }

    public void Dispose()
    {
        foreach (var document in _documents)
        {
            document.Dispose();
        }
    }
}

/// <summary>A body that is not a Dataset-JSON v1.1 dataset; <see cref="Field"/> names the attribute or row.</summary>
internal sealed class DatasetJsonException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
