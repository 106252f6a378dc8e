using Dapper;
using Npgsql;

namespace Modules.Access.Features.DeleteApiKey;

internal static class Data
{
    // An admin may not delete an owner's key: only an owner may.
    private const string DeleteSql = """
        DELETE FROM access.api_keys k
        WHERE k.id = @Id AND k.workspace_id = @WorkspaceId
          AND (@CallerIsOwner OR NOT EXISTS (SELECT 1 FROM access.members m WHERE m.id = k.member_id AND m.role = 'owner'))
        """;

    public static async Task<bool> DeleteAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, bool callerIsOwner, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(DeleteSql,
            new { Id = id, WorkspaceId = workspaceId, CallerIsOwner = callerIsOwner }, cancellationToken: ct)) == 1;
}
