using System.Data.Common;
using Npgsql;

namespace Kernel.Data;

/// <summary>
/// Defaults for connection strings that name several PostgreSQL servers (<c>Host=pg1,pg2</c>: a primary and its
/// standbys, any of which may be promoted). A write connection must land on whichever is the primary now, a read
/// connection prefers a standby and falls back to the primary. What the operator wrote always wins; a single-host
/// string is returned unchanged.
/// <para>
/// Npgsql remembers each host's role (primary, standby, offline) for <c>Host Recheck Seconds</c> (its default: 10).
/// After a failover the promoted standby is still remembered as a standby for up to that long, and every write
/// connection fails fast with "no suitable host" meanwhile; 2 seconds bounds that wait and costs one role query per
/// host every 2 seconds. A connection that breaks marks its host offline and clears that host's pool at once (Npgsql
/// does this itself), so no request is handed a dead pooled connection after the first one failed.
/// </para>
/// </summary>
public static class MultiHost
{
    public const int HostRecheckSeconds = 2;

    /// <summary>
    /// The service's own connection (writes, jobs, Hangfire, migrations): <c>Target Session Attributes=read-write</c> — a
    /// primary that accepts writes. Not just <c>primary</c>: pg_auto_failover promotes a standby with
    /// <c>default_transaction_read_only = on</c> and lifts it only once the monitor has confirmed the promotion (its fence
    /// against two primaries); Npgsql counts such a server as a primary, and writes sent to it fail with 25006.
    /// </summary>
    public static string ForWrites(string connectionString) => WithDefaults(connectionString, "read-write");

    /// <summary><c>ConnectionStrings:LeadsRead</c>: <c>Target Session Attributes=prefer-standby</c>.</summary>
    public static string ForReads(string connectionString) => WithDefaults(connectionString, "prefer-standby");

    /// <summary>Whether the connection string names more than one server.</summary>
    public static bool IsMultiHost(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString).Host?.Contains(',') == true;

    private static string WithDefaults(string connectionString, string targetSessionAttributes)
    {
        if (!IsMultiHost(connectionString)) return connectionString;
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Target Session Attributes") && !given.ContainsKey("TargetSessionAttributes"))
            csb.TargetSessionAttributes = targetSessionAttributes;
        if (!given.ContainsKey("Host Recheck Seconds") && !given.ContainsKey("HostRecheckSeconds"))
            csb.HostRecheckSeconds = HostRecheckSeconds;
        return csb.ConnectionString;
    }
}
