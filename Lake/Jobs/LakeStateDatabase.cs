using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace ClinicalTrials.Lake.Jobs;

/// <summary>The embedded profile's <see cref="ILakeState"/>: a small SQLite database, <c>lake.db</c> in the data directory.</summary>
public sealed class LakeStateDatabase : ILakeState
{
    private readonly string _connectionString;

    public LakeStateDatabase(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS bronze_progress (
                location TEXT PRIMARY KEY, consumed INTEGER NOT NULL, copied INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS silver_changes (date TEXT PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS job_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
                status TEXT NOT NULL, rows_in INTEGER NOT NULL DEFAULT 0, rows_out INTEGER NOT NULL DEFAULT 0,
                details TEXT, error TEXT);
            CREATE INDEX IF NOT EXISTS job_runs_by_job ON job_runs (job, id);
            """);
    }

    public Dictionary<string, (long Consumed, bool Copied)> BronzeProgress()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT location, consumed, copied FROM bronze_progress";
        using var reader = command.ExecuteReader();
        var progress = new Dictionary<string, (long, bool)>(StringComparer.Ordinal);
        while (reader.Read())
        {
            progress[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2) != 0);
        }

        return progress;
    }

    public void CommitProgress(IReadOnlyDictionary<string, long> consumed, IEnumerable<DateOnly> changedDates)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                INSERT INTO bronze_progress (location, consumed) VALUES ($location, $consumed)
                ON CONFLICT (location) DO UPDATE SET consumed = excluded.consumed
                """;
            var location = command.Parameters.Add("$location", SqliteType.Text);
            var bytes = command.Parameters.Add("$consumed", SqliteType.Integer);
            foreach (var (key, value) in consumed)
            {
                (location.Value, bytes.Value) = (key, value);
                command.ExecuteNonQuery();
            }
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT OR IGNORE INTO silver_changes (date) VALUES ($date)";
            var date = command.Parameters.Add("$date", SqliteType.Text);
            foreach (var changed in changedDates)
            {
                date.Value = Format(changed);
                command.ExecuteNonQuery();
            }
        }

        transaction.Commit();
    }

    public void MarkCopied(string location)
    {
        using var connection = Open();
        Execute(connection, "UPDATE bronze_progress SET copied = 1 WHERE location = $location", ("$location", location));
    }

    public void ForgetBronze(string location)
    {
        using var connection = Open();
        Execute(connection, "DELETE FROM bronze_progress WHERE location = $location", ("$location", location));
    }

    public List<DateOnly> SilverChanges()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT date FROM silver_changes ORDER BY date";
        using var reader = command.ExecuteReader();
        var dates = new List<DateOnly>();
        while (reader.Read())
        {
            dates.Add(DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        return dates;
    }

    public void ClearSilverChanges(IEnumerable<DateOnly> dates)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        foreach (var date in dates)
        {
            Execute(connection, "DELETE FROM silver_changes WHERE date = $date", ("$date", Format(date)));
        }

        transaction.Commit();
    }

    public long StartRun(string job, DateTimeOffset startedAt)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO job_runs (job, started_at, status) VALUES ($job, $started, 'running') RETURNING id";
        command.Parameters.AddWithValue("$job", job);
        command.Parameters.AddWithValue("$started", startedAt.ToString("O", CultureInfo.InvariantCulture));
        return (long)command.ExecuteScalar()!;
    }

    public void EndRun(JobRunRecord record)
    {
        using var connection = Open();
        Execute(connection, """
            UPDATE job_runs SET ended_at = $ended, status = $status, rows_in = $in, rows_out = $out, details = $details, error = $error
            WHERE id = $id
            """,
            ("$id", record.Id), ("$ended", record.EndedAt?.ToString("O", CultureInfo.InvariantCulture)), ("$status", record.Status),
            ("$in", record.RowsIn), ("$out", record.RowsOut), ("$details", JsonSerializer.Serialize(record.Details)), ("$error", record.Error));
    }

    public List<JobRunRecord> Runs(string? job, int limit)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, job, started_at, ended_at, status, rows_in, rows_out, details, error FROM job_runs
            {(job is null ? "" : "WHERE job = $job")} ORDER BY id DESC LIMIT $limit
            """;
        if (job is not null)
        {
            command.Parameters.AddWithValue("$job", job);
        }

        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var runs = new List<JobRunRecord>();
        while (reader.Read())
        {
            runs.Add(new JobRunRecord(
                reader.GetInt64(0), reader.GetString(1), DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
                reader.IsDBNull(3) ? null : DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture),
                reader.GetString(4), reader.GetInt64(5), reader.GetInt64(6),
                reader.IsDBNull(7) ? new Dictionary<string, long>() : JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(7))!,
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return runs;
    }

    public int DeleteRunsBefore(DateTimeOffset before)
    {
        using var connection = Open();
        // ISO-8601 UTC strings of one format order like the times they name.
        return Execute(connection, "DELETE FROM job_runs WHERE started_at < $before",
            ("$before", before.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)));
    }

    private static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 10000;";
        command.ExecuteNonQuery();
        return connection;
    }

    private static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command.ExecuteNonQuery();
    }
}
