using Microsoft.Data.Sqlite;
using Orleans.Serialization;
using Orleans.Storage;

namespace ClinicalTrials.Grains.Storage;

/// <summary>
/// Grain state in an embedded SQLite file (the no-server default). Rows carry an ETag so two activations of one
/// grain cannot silently overwrite each other. Durability of clinical data does not rest on this store: it holds
/// snapshots that the journal can rebuild.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite's async methods complete synchronously, so the statements run on the thread pool: on a grain's
/// thread a write (and now and then a WAL checkpoint with its fsync) would hold up every grain scheduled behind it.
/// </remarks>
public sealed class SqliteGrainStorage : IGrainStorage, IDisposable
{
    private readonly string _connectionString;
    private readonly Serializer _serializer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public SqliteGrainStorage(string path, Serializer serializer)
    {
        _serializer = serializer;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS grain_state (
                grain_id TEXT NOT NULL, state_name TEXT NOT NULL, etag INTEGER NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (grain_id, state_name)) WITHOUT ROWID;
            """;
        command.ExecuteNonQuery();
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = await Task.Run(() =>
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT etag, data FROM grain_state WHERE grain_id = $grain AND state_name = $state";
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$state", stateName);
            using var row = command.ExecuteReader();
            return row.Read() ? (ETag: row.GetInt64(0), Data: (byte[])row.GetValue(1)) : default;
        });

        if (stored.Data is not null)
        {
            grainState.ETag = stored.ETag.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.State = _serializer.Deserialize<T>(stored.Data);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.State = Activator.CreateInstance<T>();
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = _serializer.SerializeToArray(grainState.State);
        var expected = grainState.ETag is null ? 0 : long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture);
        await _writeLock.WaitAsync();
        try
        {
            var stored = await Task.Run(() =>
            {
                using var connection = Open();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    INSERT INTO grain_state VALUES ($grain, $state, 1, $data)
                    ON CONFLICT DO UPDATE SET etag = etag + 1, data = excluded.data WHERE etag = $expected
                    RETURNING etag
                    """;
                command.Parameters.AddWithValue("$grain", grainId.ToString());
                command.Parameters.AddWithValue("$state", stateName);
                command.Parameters.AddWithValue("$data", data);
                command.Parameters.AddWithValue("$expected", expected);
                return command.ExecuteScalar();
            });
            if (stored is not long etag)
            {
                throw new InconsistentStateException($"State '{stateName}' of {grainId} was changed by another activation.", "unknown", grainState.ETag ?? "none");
            }

            grainState.ETag = etag.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Task.Run(() =>
        {
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM grain_state WHERE grain_id = $grain AND state_name = $state";
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$state", stateName);
            command.ExecuteNonQuery();
        });
        grainState.ETag = null;
        grainState.State = Activator.CreateInstance<T>();
        grainState.RecordExists = false;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Snapshots can be rebuilt from the journal, so a write need not wait for its own fsync (WAL, NORMAL).
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous = NORMAL";
        command.ExecuteNonQuery();
        return connection;
    }

    public void Dispose() => _writeLock.Dispose();
}
