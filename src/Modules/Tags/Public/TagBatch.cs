using Dapper;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;
using AttachData = Modules.Tags.Features.AttachTag.Data;

namespace Modules.Tags.Public;

/// <summary>
/// POST / DELETE a lead's tag for many leads at once (spec §12), inside the caller's transaction: the same links, the same
/// <c>tag_added</c> / <c>tag_removed</c> event <c>{tagId, name}</c> (plus <paramref name="extra"/>'s fields, e.g. <c>bulkId</c>) on
/// each lead whose tags change, the same touch of <c>updated_at</c>. Leads are locked in ascending ID order first.
/// </summary>
public static class TagBatch
{
    private const string LinkManySql = """
        INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id)
        SELECT id, @TagId, @WorkspaceId FROM unnest(@Ids) AS id
        ON CONFLICT (lead_id, tag_id) DO NOTHING
        RETURNING lead_id
        """;

    private const string UnlinkManySql = """
        DELETE FROM tags.lead_tags WHERE workspace_id = @WorkspaceId AND tag_id = @TagId AND lead_id = ANY(@Ids)
        RETURNING lead_id
        """;

    private const string FindSql = """
        SELECT id, name FROM tags.tags
        WHERE workspace_id = @WorkspaceId AND (id = @Id OR (@Id IS NULL AND lower(name) = lower(@Name)))
        """;

    /// <summary>Attaches the tag named <paramref name="name"/> (created on first use) to each of the leads still there.</summary>
    public static async Task<BatchResult> AttachAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, string name,
        Actor actor, IReadOnlyDictionary<string, object?> extra, CancellationToken ct)
    {
        var locked = await LeadLocks.LockAllAsync(conn, tx, workspaceId, ids, ct);
        if (locked.Length == 0) return new(0, 0);
        var tag = await AttachData.EnsureTagAsync(conn, tx, workspaceId, name, ct);
        var linked = (await conn.QueryAsync<Guid>(new CommandDefinition(LinkManySql, new { TagId = tag.Id, WorkspaceId = workspaceId, Ids = locked },
            tx, cancellationToken: ct))).ToArray();
        if (linked.Length > 0)
            await LeadWriter.TouchAllWithEventAsync(conn, tx, workspaceId, linked, LeadEvents.TagAdded, Data(tag.Id, tag.Name, extra), actor, ct);
        return new(locked.Length, linked.Length);
    }

    /// <summary>Detaches the tag (a <c>tag_…</c> ID or a name, case-insensitive) from each of the leads still there that carry it.</summary>
    public static async Task<BatchResult> DetachAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, string tagIdOrName,
        Actor actor, IReadOnlyDictionary<string, object?> extra, CancellationToken ct)
    {
        var locked = await LeadLocks.LockAllAsync(conn, tx, workspaceId, ids, ct);
        Guid? byId = tagIdOrName.StartsWith(IdPrefix.Tag + "_", StringComparison.Ordinal) && TypeId.TryParse(tagIdOrName, IdPrefix.Tag, out var g) ? g : null;
        var tag = await conn.QuerySingleOrDefaultAsync<(Guid Id, string Name)?>(new CommandDefinition(FindSql,
            new { WorkspaceId = workspaceId, Id = byId, Name = tagIdOrName }, tx, cancellationToken: ct));
        if (locked.Length == 0 || tag is not { } t) return new(locked.Length, 0);
        var unlinked = (await conn.QueryAsync<Guid>(new CommandDefinition(UnlinkManySql, new { TagId = t.Id, WorkspaceId = workspaceId, Ids = locked },
            tx, cancellationToken: ct))).ToArray();
        if (unlinked.Length > 0)
            await LeadWriter.TouchAllWithEventAsync(conn, tx, workspaceId, unlinked, LeadEvents.TagRemoved, Data(t.Id, t.Name, extra), actor, ct);
        return new(locked.Length, unlinked.Length);
    }

    private static Dictionary<string, object?> Data(Guid tagId, string name, IReadOnlyDictionary<string, object?> extra)
    {
        var d = new Dictionary<string, object?> { ["tagId"] = TypeId.Format(IdPrefix.Tag, tagId), ["name"] = name };
        foreach (var (k, v) in extra) d[k] = v;
        return d;
    }
}
