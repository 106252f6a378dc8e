using System.Net.Sockets;
using Npgsql;

namespace Kernel.Data;

/// <summary>Which database errors mean "not now" rather than "never": the request answers 503, a job retries.</summary>
public static class DbErrors
{
    /// <summary>
    /// The database cannot serve this right now and may shortly: unreachable (socket, timeout, I/O), shutting down or
    /// starting up (57P01–57P03), out of connection slots (53300), read-only (25006: a standby just promoted, which
    /// pg_auto_failover keeps read-only until the monitor confirms it), or — with a multi-host connection string — no host
    /// has the role asked for yet ("No suitable host", between a primary's death and its standby's promotion).
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        PostgresException p => p.SqlState is "57P01" or "57P02" or "57P03" or "53300" or "25006",
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } => true,
        NpgsqlException n when n.IsTransient => true,
        NpgsqlException n when n.Message.StartsWith("No suitable host", StringComparison.Ordinal) => true,
        _ => e.InnerException is not null && IsUnavailable(e.InnerException),
    };
}
