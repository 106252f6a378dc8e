using Dapper;
using Npgsql;

namespace Modules.Access.Features.DeleteApiKey;

internal static class Data
{
    private const string DeleteSql = "DELETE FROM access.api_keys WHERE id = @Id AND workspace_id = @WorkspaceId";

    public static async Task<bool> DeleteAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(DeleteSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct)) == 1;
}
