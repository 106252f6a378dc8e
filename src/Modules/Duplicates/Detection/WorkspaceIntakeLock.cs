using Dapper;
using Npgsql;

namespace Modules.Duplicates.Detection;

/// <summary>
/// A transaction-scoped advisory lock per workspace that orders bulk intake against single intake: a bulk
/// batch takes it exclusively for its detection and insert, every single intake takes it shared before its
/// per-key locks. Single intakes never wait for each other on it; see README.md for the trade-off.
/// </summary>
internal static class WorkspaceIntakeLock
{
    private const string ExclusiveSql = "SELECT pg_advisory_xact_lock(hashtextextended(@Key, 0))";

    public static Task ExclusiveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(ExclusiveSql, new { Key = Key(workspaceId) }, tx, cancellationToken: ct));

    internal static string Key(Guid workspaceId) => $"dup:{workspaceId:N}";
}
