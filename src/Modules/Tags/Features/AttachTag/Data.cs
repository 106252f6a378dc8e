using Dapper;
using Npgsql;

namespace Modules.Tags.Features.AttachTag;

internal static class Data
{
    // The unique index on (workspace_id, lower(name)) decides who creates a tag: a concurrent first use of the
    // same name waits here for the other transaction and then does nothing, so it never fails or duplicates.
    private const string InsertTagSql = """
        INSERT INTO tags.tags (id, workspace_id, name)
        VALUES (@Id, @WorkspaceId, @Name)
        ON CONFLICT (workspace_id, lower(name)) DO NOTHING
        RETURNING id, name
        """;

    private const string FindTagSql = """
        SELECT id, name FROM tags.tags
        WHERE workspace_id = @WorkspaceId AND lower(name) = lower(@Name)
        """;

    private const string LinkSql = """
        INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id)
        VALUES (@LeadId, @TagId, @WorkspaceId)
        ON CONFLICT (lead_id, tag_id) DO NOTHING
        """;

    /// <summary>The workspace's tag of that name (case-insensitive), created on first use.</summary>
    public static async Task<Response> EnsureTagAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, string name, CancellationToken ct)
    {
        // Each statement sees what committed before it started (READ COMMITTED), so the SELECT finds a tag another
        // transaction created while the INSERT waited. Only a tag deleted in between sends us round again.
        for (var attempt = 1; ; attempt++)
        {
            var args = new { Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, Name = name };
            var tag = await conn.QuerySingleOrDefaultAsync<Response>(new CommandDefinition(InsertTagSql, args, tx, cancellationToken: ct))
                      ?? await conn.QuerySingleOrDefaultAsync<Response>(new CommandDefinition(FindTagSql, args, tx, cancellationToken: ct));
            if (tag is not null) return tag;
            if (attempt == 3) throw new InvalidOperationException($"Tag '{name}' kept disappearing while being attached.");
        }
    }

    /// <summary>True when the link is new; false when the lead already carried the tag.</summary>
    public static async Task<bool> LinkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, Guid tagId, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(LinkSql, new { LeadId = leadId, TagId = tagId, WorkspaceId = workspaceId }, tx, cancellationToken: ct)) == 1;
}
