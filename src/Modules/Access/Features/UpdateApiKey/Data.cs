using Dapper;
using Npgsql;

namespace Modules.Access.Features.UpdateApiKey;

internal static class Data
{
    private const string UpdateSql = """
        UPDATE access.api_keys
        SET label = COALESCE(@Label, label), active = COALESCE(@Active, active)
        WHERE id = @Id AND workspace_id = @WorkspaceId
        """;

    public static async Task<bool> UpdateAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, string? label, bool? active, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(UpdateSql, new { Id = id, WorkspaceId = workspaceId, Label = label, Active = active }, cancellationToken: ct)) == 1;
}
