using Dapper;
using Npgsql;

namespace Modules.Tags.Features.DeleteTag;

internal static class Data
{
    // FOR UPDATE conflicts with the key-share lock a new link's foreign key check takes, so from here on no
    // lead can gain this tag until the transaction ends.
    private const string LockTagSql = "SELECT name FROM tags.tags WHERE id = @Id AND workspace_id = @WorkspaceId FOR UPDATE";

    private const string LinkedLeadsSql = "SELECT lead_id FROM tags.lead_tags WHERE tag_id = @Id ORDER BY lead_id";

    private const string UnlinkAllSql = "DELETE FROM tags.lead_tags WHERE tag_id = @Id RETURNING lead_id";

    private const string DeleteTagSql = "DELETE FROM tags.tags WHERE id = @Id";

    /// <summary>The tag's name, or null when the workspace has no such tag.</summary>
    public static Task<string?> LockTagAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(LockTagSql, new { Id = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    public static async Task<IReadOnlyList<Guid>> LinkedLeadsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        (await conn.QueryAsync<Guid>(new CommandDefinition(LinkedLeadsSql, new { Id = id }, tx, cancellationToken: ct))).AsList();

    /// <summary>Removes every link to the tag; returns the leads that lost it.</summary>
    public static async Task<IReadOnlyList<Guid>> UnlinkAllAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        (await conn.QueryAsync<Guid>(new CommandDefinition(UnlinkAllSql, new { Id = id }, tx, cancellationToken: ct))).AsList();

    public static Task DeleteTagAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(DeleteTagSql, new { Id = id }, tx, cancellationToken: ct));
}
