using Dapper;
using Npgsql;

namespace Modules.Tags.Public;

/// <summary>Tag links moved by a merge and given back by an unmerge, inside their transaction (the Tags module stays the only writer of tags.*).</summary>
public static class TagMerge
{
    // The duplicate's own tag IDs (kept by the merge record for an unmerge), then: copies the duplicate's links the
    // survivor lacks and answers the tags it added. The duplicate's own links go with its row (ON DELETE CASCADE).
    private const string AbsorbSql = """
        SELECT tag_id FROM tags.lead_tags WHERE lead_id = @Duplicate ORDER BY tag_id;

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

    // Undoing a merge (spec §10): the restored lead gets back those of its tags that still exist; the survivor loses the
    // tags it carried only because of the merge.
    private const string UndoSql = """
        INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id)
        SELECT @Restored, t.id, t.workspace_id FROM tags.tags t WHERE t.id = ANY(@RestoredTags) ORDER BY t.id
        ON CONFLICT (lead_id, tag_id) DO NOTHING;
        DELETE FROM tags.lead_tags WHERE lead_id = @Survivor AND tag_id = ANY(@SurvivorTags);
        """;

    public sealed record AddedTag(Guid Id, string Name);

    /// <param name="Added">The tags the survivor did not already carry.</param>
    /// <param name="DuplicateTagIds">Every tag the duplicate carried.</param>
    public sealed record Absorbed(IReadOnlyList<AddedTag> Added, Guid[] DuplicateTagIds);

    /// <summary>Gives the survivor every tag of the duplicate, in one round trip.</summary>
    public static async Task<Absorbed> AbsorbAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid duplicateId, Guid survivorId, CancellationToken ct)
    {
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(AbsorbSql, new { Survivor = survivorId, Duplicate = duplicateId }, tx, cancellationToken: ct));
        var own = (await grid.ReadAsync<Guid>()).ToArray();
        var added = (await grid.ReadAsync<AddedTag>()).AsList();
        return new Absorbed(added, own);
    }

    /// <summary>Reverses <see cref="AbsorbAsync"/>: <paramref name="restoredTags"/> back on the restored lead (those still existing), <paramref name="addedTags"/> off the survivor.</summary>
    public static Task UndoAbsorbAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid restoredId, Guid[] restoredTags, Guid survivorId, Guid[] addedTags,
        CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(UndoSql,
            new { Restored = restoredId, RestoredTags = restoredTags, Survivor = survivorId, SurvivorTags = addedTags }, tx, cancellationToken: ct));
}
