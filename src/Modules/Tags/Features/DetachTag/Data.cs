using Dapper;
using Npgsql;

namespace Modules.Tags.Features.DetachTag;

internal static class Data
{
    private const string UnlinkSql = """
        DELETE FROM tags.lead_tags lt
        USING tags.tags t
        WHERE lt.lead_id = @LeadId AND lt.tag_id = @TagId AND lt.workspace_id = @WorkspaceId AND t.id = lt.tag_id
        RETURNING t.name
        """;

    /// <summary>The removed tag's name, or null when the lead did not carry that tag.</summary>
    public static Task<string?> UnlinkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, Guid tagId, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(UnlinkSql, new { LeadId = leadId, TagId = tagId, WorkspaceId = workspaceId }, tx, cancellationToken: ct));
}
