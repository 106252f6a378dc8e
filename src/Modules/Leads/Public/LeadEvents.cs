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

    public static Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, string type,
        object data, Actor actor, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, Args(workspaceId, leadId, type, data, actor), tx, cancellationToken: ct));
}
