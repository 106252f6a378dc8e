using Dapper;
using Npgsql;

namespace Modules.Leads.Features.CreateSource;

internal static class Data
{
    private const string InsertSql = """
        INSERT INTO leads.sources (id, workspace_id, name, webhook_token, field_mappings, created_by)
        VALUES (@Id, @WorkspaceId, @Name, @WebhookToken, @FieldMappings::jsonb, @CreatedBy)
        """;

    public static Task InsertAsync(NpgsqlConnection conn, Guid id, Guid workspaceId, string name, string webhookToken,
        string fieldMappingsJson, Guid createdBy, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = id,
            WorkspaceId = workspaceId,
            Name = name,
            WebhookToken = webhookToken,
            FieldMappings = fieldMappingsJson,
            CreatedBy = createdBy,
        }, cancellationToken: ct));
}
