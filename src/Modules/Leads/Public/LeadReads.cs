using Modules.Leads.Public;
using Dapper;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>Reads of a whole lead, shared by every slice that answers with the full lead.</summary>
public static class LeadReads
{
    // Member names come through Access's published view; a removed member's leads are already unassigned.
    private const string DetailSql = """
        SELECT l.id, l.first_name, l.last_name, l.email, l.phone, l.company, l.status, l.score,
               l.duplicate_of IS NOT NULL AS is_duplicate, l.created_at, l.notes, l.metadata, l.channel, l.updated_at,
               s.id, s.name, CASE WHEN s.deleted_at IS NOT NULL THEN true END AS deleted,
               m.id, m.name,
               l.duplicate_of AS id, coalesce(l.duplicate_matched_on, '{}') AS matched_on
        FROM leads.leads l
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        WHERE l.id = @Id AND l.workspace_id = @WorkspaceId;

        SELECT tag_id AS id, name FROM tags.v_lead_tags WHERE lead_id = @Id ORDER BY lower(name), tag_id;
        """;

    public static async Task<LeadDetail?> DetailAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(DetailSql, new { Id = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));
        var lead = grid.Read<LeadDetail, SourceRef, UserRef, DuplicateRef, LeadDetail>((l, s, m, d) =>
        {
            l.Source = s;
            l.AssignedTo = m;
            l.DuplicateOf = d;
            return l;
        }, splitOn: "id,id,id").SingleOrDefault();
        if (lead is null) return null;
        lead.Tags = grid.Read<TagRef>().AsList();
        return lead;
    }

    /// <summary>The full lead, or the right 404 (not found / merged).</summary>
    public static async Task<LeadDetail> RequireDetailAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        await DetailAsync(conn, workspaceId, id, ct) ?? throw await LeadLookup.MissingAsync(conn, null, workspaceId, id, ct);
}
