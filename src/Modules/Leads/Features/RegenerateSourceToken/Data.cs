using Dapper;
using Npgsql;

namespace Modules.Leads.Features.RegenerateSourceToken;

internal static class Data
{
    private const string SetTokenSql = """
        UPDATE leads.sources
        SET webhook_token = @WebhookToken, updated_at = now()
        WHERE id = @Id AND workspace_id = @WorkspaceId AND deleted_at IS NULL
        """;

    /// <summary>False when there is no live source with that ID in the workspace.</summary>
    public static async Task<bool> SetTokenAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, string webhookToken, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(SetTokenSql,
            new { Id = id, WorkspaceId = workspaceId, WebhookToken = webhookToken }, cancellationToken: ct)) == 1;
}
