using System.Text.Json;
using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>Timeline event types (spec §3.3) and the one way to append one, inside the caller's transaction.</summary>
public static class LeadEvents
{
    public const string Created = "created";
    public const string ScoreChanged = "score_changed";
    public const string StatusChanged = "status_changed";
    public const string NotesUpdated = "notes_updated";
    public const string TagAdded = "tag_added";
    public const string TagRemoved = "tag_removed";
    public const string Assigned = "assigned";
    public const string Unassigned = "unassigned";
    public const string DuplicateFlagged = "duplicate_flagged";
    public const string DuplicateCleared = "duplicate_cleared";
    public const string LeadUpdated = "lead_updated";
    public const string Merged = "merged";
    public const string DuplicateDismissed = "duplicate_dismissed";
    public const string Unmerged = "unmerged";

    /// <summary>Appends one event; its parameters come from <see cref="Args"/> (named so a caller can batch it with its own statement).</summary>
    internal const string InsertSql = """
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        VALUES (@EventId, @WorkspaceId, @LeadId, @EventType, @EventData::jsonb, @ActorType, @ActorId, @ActorName)
        """;

    /// <summary>The <c>duplicate_flagged</c> event's data, the same on every path (intake, import, edit).</summary>
    public static object DuplicateFlaggedData(DuplicateMatch match) =>
        new { primaryId = TypeId.Format(IdPrefix.Lead, match.PrimaryId), matchedOn = match.MatchedOn };

    internal static object Args(Guid workspaceId, Guid leadId, string type, object data, Actor actor) => new
    {
        EventId = Guid.CreateVersion7(),
        WorkspaceId = workspaceId,
        LeadId = leadId,
        EventType = type,
        EventData = JsonSerializer.Serialize(data, JsonConventions.Options),
        ActorType = actor.Type,
        ActorId = actor.Id,
        ActorName = actor.Name,
    };

    /// <summary>
    /// SQL (a <c>uuid[]</c>) for the leads whose event rows make up the timeline of <paramref name="leadId"/> (an SQL
    /// expression): the lead itself and every lead merged into it. A merge moves no event row — each stays keyed by
    /// the lead it was written for — and tombstones are kept flat (a merge re-points the duplicate's own tombstones
    /// at the survivor), so one level covers merge chains.
    /// </summary>
    internal static string TimelineLeadIdsSql(string leadId) =>
        $"ARRAY(SELECT {leadId} UNION ALL SELECT m.id FROM leads.merged_leads m WHERE m.merged_into = {leadId})";

    private const string InsertManySql = """
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        SELECT leads.uuid_v7(), @WorkspaceId, e.lead_id, @EventType, e.data::jsonb, @ActorType, @ActorId, @ActorName
        FROM unnest(@LeadIds, @Datas) WITH ORDINALITY AS e(lead_id, data, n)
        ORDER BY e.n
        """;

    /// <summary>One event of <paramref name="type"/> per lead, each with its own data, in one statement (bulk actions, spec §12).</summary>
    public static Task AppendManyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, string type,
        IReadOnlyList<(Guid LeadId, Dictionary<string, object?> Data)> events, Actor actor, CancellationToken ct)
    {
        var args = new DynamicParameters(Args(workspaceId, Guid.Empty, type, new { }, actor));
        args.Add("LeadIds", events.Select(e => e.LeadId).ToArray());
        args.Add("Datas", events.Select(e => JsonSerializer.Serialize(e.Data, JsonConventions.Options)).ToArray());
        return conn.ExecuteAsync(new CommandDefinition(InsertManySql, args, tx, cancellationToken: ct));
    }

    public static Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, string type,
        object data, Actor actor, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, Args(workspaceId, leadId, type, data, actor), tx, cancellationToken: ct));
}
