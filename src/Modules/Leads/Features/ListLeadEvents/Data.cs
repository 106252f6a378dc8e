using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ListLeadEvents;

internal static class Data
{
    // A lead's timeline is its own events and those of the leads merged into it (merges move no event row).
    private static readonly string LeadSql = $"""
        SELECT id, channel, source_id, import_id, created_score, created_actor_type, created_actor_id, created_actor_name, created_at,
               (SELECT count(*) FROM leads.events e WHERE e.lead_id = ANY ({LeadEvents.TimelineLeadIdsSql("l.id")})) AS event_count
        FROM leads.leads l
        WHERE id = @Id AND workspace_id = @WorkspaceId
        """;

    // Newest first across the lead and its merged leads: each one's newest Offset + Limit events come from its
    // index range (lead_id, created_at DESC, id DESC), so a page reads at most that many rows per merged lead
    // instead of sorting the whole timeline. A lead with no merged leads is one index range, as before.
    private static readonly string EventsSql = $"""
        SELECT e.id, e.type, e.data, e.created_at, e.actor_type, e.actor_id, e.actor_name
        FROM unnest({LeadEvents.TimelineLeadIdsSql("@Id")}) AS t(lead_id)
        CROSS JOIN LATERAL (
            SELECT id, type, data, created_at, actor_type, actor_id, actor_name
            FROM leads.events
            WHERE lead_id = t.lead_id
            ORDER BY created_at DESC, id DESC
            LIMIT @Limit + @Offset) e
        ORDER BY e.created_at DESC, e.id DESC
        LIMIT @Limit OFFSET @Offset
        """;

    internal sealed record LeadHead(Guid Id, string Channel, Guid? SourceId, Guid? ImportId, short CreatedScore,
        string CreatedActorType, string? CreatedActorId, string? CreatedActorName, DateTime CreatedAt, long EventCount);

    public static Task<LeadHead?> LeadAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<LeadHead>(new CommandDefinition(LeadSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));

    private sealed record EventRow(Guid Id, string Type, JsonObject Data, DateTime CreatedAt, string ActorType, string? ActorId, string? ActorName);

    public static async Task<List<EventView>> EventsAsync(NpgsqlConnection conn, Guid leadId, Paging paging, CancellationToken ct) =>
        (await conn.QueryAsync<EventRow>(new CommandDefinition(EventsSql, new { Id = leadId, paging.Limit, paging.Offset }, cancellationToken: ct)))
        .Select(e => new EventView
        {
            Id = e.Id, Type = e.Type, Data = e.Data, CreatedAt = e.CreatedAt,
            Actor = new ActorView { Type = e.ActorType, Id = e.ActorId, Name = e.ActorName },
        }).ToList();

    /// <summary>
    /// The <c>created</c> entry, synthesised from the lead row — bulk imports write no event row per lead, and
    /// API/webhook leads are told the same way so the timeline is uniform. Its ID is the lead's own UUID.
    /// </summary>
    public static EventView Created(LeadHead h)
    {
        var data = new JsonObject { ["channel"] = h.Channel };
        if (h.SourceId is { } s) data["sourceId"] = TypeId.Format(IdPrefix.Source, s);
        if (h.ImportId is { } i) data["importId"] = TypeId.Format(IdPrefix.Import, i);
        data["score"] = (int)h.CreatedScore;
        return new EventView
        {
            Id = h.Id,
            Type = LeadEvents.Created,
            Data = data,
            Actor = new ActorView { Type = h.CreatedActorType, Id = h.CreatedActorId, Name = h.CreatedActorName },
            CreatedAt = h.CreatedAt,
        };
    }
}
