using Dapper;
using Npgsql;

namespace Modules.Access.Features.UpdateApiKey;

internal static class Data
{
    // An admin may not touch an owner's key (deactivate it, re-enable one the owner revoked): only an owner may.
    private const string UpdateSql = """
        UPDATE access.api_keys k
        SET label = COALESCE(@Label, k.label), active = COALESCE(@Active, k.active)
        WHERE k.id = @Id AND k.workspace_id = @WorkspaceId
          AND (@CallerIsOwner OR NOT EXISTS (SELECT 1 FROM access.members m WHERE m.id = k.member_id AND m.role = 'owner'))
        """;

    public static async Task<bool> UpdateAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, bool callerIsOwner, string? label, bool? active,
        CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(UpdateSql,
            new { Id = id, WorkspaceId = workspaceId, CallerIsOwner = callerIsOwner, Label = label, Active = active }, cancellationToken: ct)) == 1;
}
