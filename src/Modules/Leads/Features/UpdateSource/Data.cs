using Dapper;
using Npgsql;

namespace Modules.Leads.Features.UpdateSource;

internal static class Data
{
    private const string UpdateSql = """
        UPDATE leads.sources
        SET name = COALESCE(@Name, name), field_mappings = COALESCE(@FieldMappings::jsonb, field_mappings), updated_at = now()
        WHERE id = @Id AND workspace_id = @WorkspaceId AND deleted_at IS NULL
        """;

    /// <summary>False when there is no live source with that ID in the workspace.</summary>
    public static async Task<bool> UpdateAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, string? name, string? fieldMappingsJson,
        CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(UpdateSql,
            new { Id = id, WorkspaceId = workspaceId, Name = name, FieldMappings = fieldMappingsJson }, cancellationToken: ct)) == 1;
}
