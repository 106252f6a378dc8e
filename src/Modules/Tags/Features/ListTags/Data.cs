using Dapper;
using Npgsql;

namespace Modules.Tags.Features.ListTags;

internal static class Data
{
    // starts_with needs no LIKE escaping, so a search for "50%" or "a_b" means exactly that.
    private const string ListSql = """
        SELECT t.id, t.name, count(lt.lead_id) AS lead_count, t.created_at
        FROM tags.tags t
        LEFT JOIN tags.lead_tags lt ON lt.tag_id = t.id
        WHERE t.workspace_id = @WorkspaceId
          AND (@Search::text IS NULL OR starts_with(lower(t.name), lower(@Search)))
        GROUP BY t.id
        ORDER BY lower(t.name), t.id
        """;

    public static async Task<IReadOnlyList<Response.Item>> ListAsync(NpgsqlConnection conn, Guid workspaceId, string? search, CancellationToken ct) =>
        (await conn.QueryAsync<Response.Item>(new CommandDefinition(ListSql, new { WorkspaceId = workspaceId, Search = search }, cancellationToken: ct))).AsList();
}
