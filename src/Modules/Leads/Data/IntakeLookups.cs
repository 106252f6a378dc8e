using Dapper;
using Npgsql;

namespace Modules.Leads.Data;

/// <summary>What the intake rules need to know about a workspace, read the same way by creation and edits.</summary>
internal static class IntakeLookups
{
    private const string RegionSql = "SELECT default_region FROM access.v_workspaces WHERE id = @WorkspaceId";

    private const string SourceExistsSql = """
        SELECT EXISTS (SELECT 1 FROM leads.sources WHERE id = @Id AND workspace_id = @WorkspaceId AND deleted_at IS NULL)
        """;

    /// <summary>The workspace's default phone region (<c>US</c> unless set).</summary>
    public static async Task<string> RegionAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<string>(new CommandDefinition(RegionSql, new { WorkspaceId = workspaceId }, tx, cancellationToken: ct)) ?? "US";

    /// <summary>Whether the ID names a live (not deleted) source of the workspace.</summary>
    public static Task<bool> SourceExistsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId, Guid sourceId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(SourceExistsSql, new { Id = sourceId, WorkspaceId = workspaceId }, tx, cancellationToken: ct));
}
