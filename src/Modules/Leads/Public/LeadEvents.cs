using System.Text.Json;
using Dapper;
using Kernel.Http;
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
    public const string Merged = "merged";

    private const string InsertSql = """
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        VALUES (@Id, @WorkspaceId, @LeadId, @Type, @Data::jsonb, @ActorType, @ActorId, @ActorName)
        """;

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
        conn.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = Guid.CreateVersion7(),
            WorkspaceId = workspaceId,
            LeadId = leadId,
            Type = type,
            Data = JsonSerializer.Serialize(data, JsonConventions.Options),
            ActorType = actor.Type,
            ActorId = actor.Id,
            ActorName = actor.Name,
        }, tx, cancellationToken: ct));
}
