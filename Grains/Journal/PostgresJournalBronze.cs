using System.Globalization;
using System.Text.RegularExpressions;
using ClinicalTrials.Lake.Silver;
using Npgsql;

namespace ClinicalTrials.Grains.Journal;

/// <summary>
/// The cluster journal's rows as bronze (<see cref="IJournalBronze"/>): an hour's accepted messages of one payload
/// type are one bronze file, <c>{partition}/part-0.ndjson</c>, their lines in sequence order. Hours are found by
/// received time (the index <c>journal_messages_by_received</c>), from the export mark that bronze-to-silver moves.
/// </summary>
public sealed partial class PostgresJournal : IJournalBronze
{
    private const string BronzeFileName = "part-0.ndjson";

    public async Task<IReadOnlyList<string>> SealedFilesAsync(DateTimeOffset sealedBefore, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand($"""
            SELECT DISTINCT location FROM journal_messages
            WHERE status = {StatusAccepted} AND received_at < $1
              AND received_at >= coalesce((SELECT exported_before FROM journal_export), '-infinity')
            ORDER BY location
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = sealedBefore });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var files = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            files.Add($"{reader.GetString(0)}/{BronzeFileName}");
        }

        return files;
    }

    public async Task WriteFileAsync(string location, string path, CancellationToken cancellationToken)
    {
        var partition = location.EndsWith("/" + BronzeFileName, StringComparison.Ordinal)
            ? location[..^(BronzeFileName.Length + 1)]
            : throw new ArgumentException($"'{location}' is not a bronze file of the journal.", nameof(location));
        var hour = HourOf(partition);
        await using var command = _database.CreateCommand($"""
            SELECT line FROM journal_messages
            WHERE status = {StatusAccepted} AND received_at >= $1 AND received_at < $2 AND location = $3
            ORDER BY sequence
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = hour });
        command.Parameters.Add(new NpgsqlParameter { Value = hour.AddHours(1) });
        command.Parameters.Add(new NpgsqlParameter { Value = partition });
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                await file.WriteAsync(reader.GetFieldValue<byte[]>(0), cancellationToken);
            }

            file.Flush(flushToDisk: true);
        }
    }

    public async Task MarkExportedAsync(DateTimeOffset sealedBefore, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand("""
            INSERT INTO journal_export (exported_before) VALUES ($1)
            ON CONFLICT (singleton) DO UPDATE SET exported_before = greatest(journal_export.exported_before, excluded.exported_before)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = sealedBefore });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DateTimeOffset HourOf(string partition)
    {
        var match = HourPartition().Match(partition);
        return match.Success
            ? DateTimeOffset.ParseExact($"{match.Groups[1].Value} {match.Groups[2].Value}", "yyyy-MM-dd HH", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal)
            : throw new ArgumentException($"'{partition}' names no hour partition.", nameof(partition));
    }

    [GeneratedRegex(@"date=(\d{4}-\d{2}-\d{2})/hour=(\d{2})$")]
    private static partial Regex HourPartition();
}
