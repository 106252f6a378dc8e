using Dapper;
using Npgsql;

namespace Modules.Leads.Data;

/// <summary>What the intake rules need to know about a workspace, read the same way by creation, import and edits.</summary>
internal static class IntakeLookups
{
    // The region and the source check in one round trip (single intake pays for every one).
    private const string ContextSql = """
        SELECT coalesce((SELECT default_region FROM access.v_workspaces WHERE id = @WorkspaceId), 'US') AS region,
               @SourceId::uuid IS NOT NULL AND EXISTS (
                   SELECT 1 FROM leads.sources WHERE id = @SourceId AND workspace_id = @WorkspaceId AND deleted_at IS NULL) AS source_exists
        """;

    /// <summary>The workspace's default phone region (<c>US</c> unless set) and whether the source ID names a live source of it.</summary>
    public static async Task<(string Region, bool SourceExists)> ContextAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId,
        Guid? sourceId, CancellationToken ct)
    {
        var row = await conn.QuerySingleAsync<(string Region, bool SourceExists)>(new CommandDefinition(ContextSql,
            new { WorkspaceId = workspaceId, SourceId = sourceId }, tx, cancellationToken: ct));
        return row;
    }
}
