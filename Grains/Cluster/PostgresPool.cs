using System.Net.Sockets;
using Npgsql;

namespace ClinicalTrials.Grains.Cluster;

/// <summary>
/// After PostgreSQL restarts, or the network to it drops, every idle connection in the pool is dead, and Npgsql finds
/// that out one connection at a time: each of them fails one more request after the database is back. A failure that
/// says the connection broke clears the pool instead (idle connections close now, busy ones when they are returned),
/// so the next request opens a fresh connection.
/// </summary>
public static class PostgresPool
{
    public static void ClearIfConnectionBroke(NpgsqlDataSource database, Exception failure)
    {
        if (ConnectionBroke(failure))
        {
            database.Clear();
        }
    }

    private static bool ConnectionBroke(Exception? failure) => failure switch
    {
        // Class 08: connection exceptions; 57P01-57P03: the server is shutting down, crashed or is not yet up.
        PostgresException e => e.SqlState.StartsWith("08", StringComparison.Ordinal) || e.SqlState is PostgresErrorCodes.AdminShutdown
            or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        IOException or SocketException => true,
        NpgsqlException e => ConnectionBroke(e.InnerException),
        _ => false,
    };
}
