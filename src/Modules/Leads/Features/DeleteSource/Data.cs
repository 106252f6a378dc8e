using Dapper;
using Npgsql;

namespace Modules.Leads.Features.DeleteSource;

internal static class Data
{
    // Soft delete: leads keep their source_id and show the source as deleted; the webhook token stops matching.
    private const string SoftDeleteSql = """
        UPDATE leads.sources
        SET deleted_at = now(), updated_at = now()
        WHERE id = @Id AND workspace_id = @WorkspaceId AND deleted_at IS NULL
        """;

    /// <summary>False when there is no live source with that ID in the workspace.</summary>
    public static async Task<bool> SoftDeleteAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(SoftDeleteSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct)) == 1;
}
