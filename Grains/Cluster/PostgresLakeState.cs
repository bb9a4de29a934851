using System.Text.Json;
using ClinicalTrials.Lake.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace ClinicalTrials.Grains.Cluster;

/// <summary>The cluster profile's <see cref="ILakeState"/>: the <c>lake_*</c> tables of the cluster database.</summary>
public sealed class PostgresLakeState(NpgsqlDataSource database) : ILakeState
{
    public Dictionary<string, (long Consumed, bool Copied)> BronzeProgress()
    {
        var progress = new Dictionary<string, (long, bool)>(StringComparer.Ordinal);
        using var command = database.CreateCommand("SELECT location, consumed, copied FROM lake_bronze_progress");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            progress[reader.GetString(0)] = (reader.GetInt64(1), reader.GetBoolean(2));
        }

        return progress;
    }

    public void CommitProgress(IReadOnlyDictionary<string, long> consumed, IEnumerable<DateOnly> changedDates)
    {
        using var connection = database.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand("""
            INSERT INTO lake_bronze_progress (location, consumed) SELECT * FROM unnest($1::text[], $2::bigint[])
            ON CONFLICT (location) DO UPDATE SET consumed = excluded.consumed
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = consumed.Keys.ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = consumed.Values.ToArray() });
            command.ExecuteNonQuery();
        }

        using (var command = new NpgsqlCommand(
            "INSERT INTO lake_silver_changes (date) SELECT unnest($1::date[]) ON CONFLICT DO NOTHING", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = changedDates.Distinct().ToArray() });
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public void MarkCopied(string location) =>
        Execute("UPDATE lake_bronze_progress SET copied = true WHERE location = $1", location);

    public void ForgetBronze(string location) =>
        Execute("DELETE FROM lake_bronze_progress WHERE location = $1", location);

    public List<DateOnly> SilverChanges()
    {
        var dates = new List<DateOnly>();
        using var command = database.CreateCommand("SELECT date FROM lake_silver_changes ORDER BY date");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            dates.Add(reader.GetFieldValue<DateOnly>(0));
        }

        return dates;
    }

    public void ClearSilverChanges(IEnumerable<DateOnly> dates) =>
        Execute("DELETE FROM lake_silver_changes WHERE date = ANY($1)", dates.ToArray());

    public long StartRun(string job, DateTimeOffset startedAt)
    {
        using var command = database.CreateCommand(
            "INSERT INTO lake_job_runs (job, started_at, status) VALUES ($1, $2, 'running') RETURNING id");
        command.Parameters.Add(new NpgsqlParameter { Value = job });
        command.Parameters.Add(new NpgsqlParameter { Value = startedAt });
        return (long)command.ExecuteScalar()!;
    }

    public void EndRun(JobRunRecord record)
    {
        using var command = database.CreateCommand("""
            UPDATE lake_job_runs SET ended_at = $2, status = $3, rows_in = $4, rows_out = $5, details = $6, error = $7 WHERE id = $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = record.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.EndedAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = record.Status });
        command.Parameters.Add(new NpgsqlParameter { Value = record.RowsIn });
        command.Parameters.Add(new NpgsqlParameter { Value = record.RowsOut });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(record.Details), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)record.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.ExecuteNonQuery();
    }

    public List<JobRunRecord> Runs(string? job, int limit)
    {
        using var command = database.CreateCommand("""
            SELECT id, job, started_at, ended_at, status, rows_in, rows_out, details::text, error FROM lake_job_runs
            WHERE $1::text IS NULL OR job = $1 ORDER BY id DESC LIMIT $2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)job ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        using var reader = command.ExecuteReader();
        var runs = new List<JobRunRecord>();
        while (reader.Read())
        {
            runs.Add(new JobRunRecord(
                reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetInt64(5), reader.GetInt64(6),
                reader.IsDBNull(7) ? new Dictionary<string, long>() : JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(7))!,
                reader.IsDBNull(8) ? null : reader.GetString(8)));
        }

        return runs;
    }

    public int DeleteRunsBefore(DateTimeOffset before) => Execute("DELETE FROM lake_job_runs WHERE started_at < $1", before);

    private int Execute(string sql, object parameter)
    {
        using var command = database.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return command.ExecuteNonQuery();
    }
}
