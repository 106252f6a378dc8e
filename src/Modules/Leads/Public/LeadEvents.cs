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
