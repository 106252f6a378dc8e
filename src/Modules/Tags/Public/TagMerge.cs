using Dapper;
using Npgsql;

namespace Modules.Tags.Public;

/// <summary>Tag links moved by a merge, inside the merge's transaction (the Tags module stays the only writer of tags.*).</summary>
public static class TagMerge
{
    // Copies the duplicate's links the survivor lacks and answers the tags it added, in one statement; the
    // duplicate's own links go with its row (ON DELETE CASCADE).
    private const string UnionSql = """
        WITH added AS (
            INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id)
            SELECT @Survivor, d.tag_id, d.workspace_id
            FROM tags.lead_tags d
            WHERE d.lead_id = @Duplicate
            ORDER BY d.tag_id
            ON CONFLICT (lead_id, tag_id) DO NOTHING
            RETURNING tag_id)
        SELECT t.id, t.name FROM added a JOIN tags.tags t ON t.id = a.tag_id ORDER BY lower(t.name), t.id
        """;

    public sealed record AddedTag(Guid Id, string Name);

    /// <summary>Gives the survivor every tag of the duplicate; returns the tags it did not already carry.</summary>
    public static async Task<IReadOnlyList<AddedTag>> UnionIntoAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid duplicateId, Guid survivorId, CancellationToken ct)
        => (await conn.QueryAsync<AddedTag>(new CommandDefinition(UnionSql, new { Survivor = survivorId, Duplicate = duplicateId }, tx, cancellationToken: ct))).AsList();
}
