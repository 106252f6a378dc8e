using Dapper;
using Modules.Leads.Data;
using Npgsql;

namespace Modules.Leads.Features.ReceiveWebhook;

internal static class Data
{
    internal sealed class WebhookSource
    {
        public Guid Id { get; init; }
        public Guid WorkspaceId { get; init; }
        public string Name { get; init; } = "";
        public IReadOnlyDictionary<string, string> FieldMappings { get; private set; } = new Dictionary<string, string>();
        public string FieldMappingsJson { init => FieldMappings = SourceMappingsJson.Parse(value); }
    }

    // The token is unique across workspaces: it alone says which workspace and source the lead is for.
    private const string FindSql = """
        SELECT id, workspace_id, name, field_mappings::text AS field_mappings_json
        FROM leads.sources
        WHERE webhook_token = @Token AND deleted_at IS NULL
        """;

    public static async Task<WebhookSource?> FindAsync(NpgsqlConnection conn, string token, CancellationToken ct) =>
        await conn.QuerySingleOrDefaultAsync<WebhookSource>(new CommandDefinition(FindSql, new { Token = token }, cancellationToken: ct));
}
