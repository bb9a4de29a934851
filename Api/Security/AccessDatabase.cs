using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace ClinicalTrials.Api.Security;

/// <summary>
/// Where the API keys and the audit trail (records, head, anchor, checkpoints) live (<see cref="From"/>): the cluster's PostgreSQL database, or in the
/// embedded profile the SQLite file <c>access.db</c> in the data directory, written with full sync so a record is on
/// disk before the action it records is acknowledged. The SQL is the subset both speak.
/// </summary>
public sealed class AccessDatabase
{
    public const string SqliteFileName = "access.db";

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS api_keys (
            key_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            site_id TEXT,
            ingest_only INTEGER NOT NULL,
            salt TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            rotated_at TEXT,
            revoked_at TEXT);
        CREATE TABLE IF NOT EXISTS audit_trail (
            seq BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            resource TEXT,
            outcome TEXT NOT NULL,
            source TEXT,
            details TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS ix_audit_at ON audit_trail (at);
        CREATE TABLE IF NOT EXISTS audit_anchor (
            id INTEGER PRIMARY KEY,
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS audit_head (
            id INTEGER PRIMARY KEY,
            seq BIGINT NOT NULL,
            hash TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS audit_checkpoint (
            seq BIGINT PRIMARY KEY,
            hash TEXT NOT NULL,
            at TEXT NOT NULL,
            key_id TEXT NOT NULL,
            signature TEXT NOT NULL);
        """;

    private readonly string? _postgres;
    private readonly string _sqlite;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private bool _schemaReady;

    private AccessDatabase(string? postgres, string sqlitePath)
    {
        _postgres = postgres;
        _sqlite = new SqliteConnectionStringBuilder { DataSource = sqlitePath, Pooling = true, DefaultTimeout = 30 }.ToString();
        SqlitePath = sqlitePath;
    }

    /// <summary>The SQLite file (unused with PostgreSQL).</summary>
    public string SqlitePath { get; }

    public bool IsPostgres => _postgres is not null;

    public string Description => IsPostgres ? "PostgreSQL" : $"SQLite {SqlitePath}";

    public static AccessDatabase Create(string? postgresConnectionString, string dataDirectory) =>
        new(string.IsNullOrWhiteSpace(postgresConnectionString) ? null : postgresConnectionString, Path.Combine(dataDirectory, SqliteFileName));

    /// <summary>
    /// The silo's access database: the cluster's PostgreSQL database in the cluster profile (<c>Cluster:Mode=Postgres</c>),
    /// where every silo must see the same keys and extend one chain; else <c>access.db</c> beside the ledger, even when
    /// <c>ConnectionStrings:Postgres</c> names a prediction log database (which the silo starts without; this it cannot).
    /// </summary>
    public static AccessDatabase From(IConfiguration configuration, string dataDirectory) =>
        Create(IsCluster(configuration) ? configuration.GetConnectionString("Postgres") : null, dataDirectory);

    /// <summary>Whether the silo runs the cluster profile, whose silos share the access database.</summary>
    public static bool IsCluster(IConfiguration configuration) =>
        string.Equals(configuration["Cluster:Mode"], "Postgres", StringComparison.OrdinalIgnoreCase);

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>An open connection; the tables are created on first use.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenRawAsync(cancellationToken);
        if (!_schemaReady)
        {
            await EnsureSchemaAsync(connection, cancellationToken);
        }

        return connection;
    }

    /// <summary>
    /// A transaction that holds the database's write lock from its start (SQLite <c>BEGIN IMMEDIATE</c>; on PostgreSQL an
    /// exclusive lock on the audit head), so appends from any thread or silo take turns and each reads the true chain head.
    /// </summary>
    public async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (IsPostgres)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "LOCK TABLE audit_head IN EXCLUSIVE MODE";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return transaction;
    }

    /// <summary>
    /// A read transaction that sees one snapshot throughout (PostgreSQL repeatable read; a deferred SQLite transaction,
    /// which takes no write lock), so a verification compares records and head of the same moment while appends go on.
    /// </summary>
    public async Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken cancellationToken = default) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: true)
            : await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);

    private async Task<DbConnection> OpenRawAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            var npgsql = new NpgsqlConnection(_postgres);
            await npgsql.OpenAsync(cancellationToken);
            return npgsql;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(SqlitePath))!);
        var sqlite = new SqliteConnection(_sqlite);
        await sqlite.OpenAsync(cancellationToken);
        await using var pragma = sqlite.CreateCommand();
        // FULL: a commit is fsynced before it returns, as the journal's commits are.
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return sqlite;
    }

    private async Task EnsureSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await _schemaLock.WaitAsync(cancellationToken);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            // Silos of a cluster starting together would race to create the same tables.
            command.CommandText = IsPostgres ? "SELECT pg_advisory_xact_lock(1313); " + Schema : Schema;
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }
}

/// <summary>Short-hands for the parameterised commands of the access database.</summary>
internal static class AccessCommands
{
    public static DbCommand Command(this DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            if (value is null)
            {
                // PostgreSQL cannot infer the type of an untyped null (`@from IS NULL`).
                parameter.DbType = System.Data.DbType.String;
            }

            command.Parameters.Add(parameter);
        }

        return command;
    }

    public static string? NullableString(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
