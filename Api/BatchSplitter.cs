using System.Text.Json;

namespace ClinicalTrials.Api;

/// <summary>
/// Cuts a batch body into its messages' bytes, each judged later on its own, counting them as it goes: a batch over
/// the limit is known after reading one message more than the limit, never after parsing the whole body. Only
/// ranges of the body are kept, so memory stays that of the body whatever the array holds.
/// </summary>
internal static class BatchSplitter
{
    /// <summary>
    /// The messages of a JSON array, or of NDJSON (one per non-blank line); at most <paramref name="limit"/> + 1,
    /// so that more than <paramref name="limit"/> means the batch is over it.
    /// </summary>
    /// <exception cref="JsonException">A JSON array that is not well-formed up to where it was read.</exception>
    public static List<ReadOnlyMemory<byte>> Split(ReadOnlyMemory<byte> body, bool isJsonArray, int limit) =>
        isJsonArray ? SplitArray(body, limit) : SplitLines(body, limit);

    private static List<ReadOnlyMemory<byte>> SplitArray(ReadOnlyMemory<byte> body, int limit)
    {
        var messages = new List<ReadOnlyMemory<byte>>();
        var reader = new Utf8JsonReader(body.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("The top-level value must be an array.");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            messages.Add(body[start..(int)reader.BytesConsumed]);
            if (messages.Count > limit)
            {
                return messages;
            }
        }

        if (reader.TokenType != JsonTokenType.EndArray || reader.Read())
        {
            throw new JsonException("The array must end with ']' and nothing may follow it.");
        }

        return messages;
    }

    private static List<ReadOnlyMemory<byte>> SplitLines(ReadOnlyMemory<byte> body, int limit)
    {
        var messages = new List<ReadOnlyMemory<byte>>();
        var rest = body;
        while (!rest.IsEmpty && messages.Count <= limit)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (!line.Span.Trim(" \t\r"u8).IsEmpty)
            {
                messages.Add(line);
            }
        }

        return messages;
    }
}
