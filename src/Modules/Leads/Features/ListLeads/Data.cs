using Dapper;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ListLeads;

internal static class Data
{
    // The inner query finds the page's IDs on an index alone (deep pages skip index entries, not rows);
    // only those rows are then read and joined.
    private const string PageSql = $"""
        SELECT l.id, l.first_name, l.last_name, l.email, l.phone, l.company, l.status, l.score,
               l.duplicate_of IS NOT NULL AS is_duplicate, l.created_at,
               s.id, s.name, CASE WHEN s.deleted_at IS NOT NULL THEN true END AS deleted,
               m.id, m.name
        FROM (
            SELECT l.id, l.created_at FROM leads.leads l
            WHERE {LeadFilter.Where}
            ORDER BY l.created_at DESC, l.id DESC
            LIMIT @Limit OFFSET @Offset
        ) p
        JOIN leads.leads l ON l.id = p.id
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        ORDER BY p.created_at DESC, p.id DESC
        """;

    public static async Task<IReadOnlyList<LeadListItem>> PageAsync(NpgsqlConnection conn, LeadFilter f, Paging paging, CancellationToken ct)
    {
        var args = new DynamicParameters(f);
        args.Add("Limit", paging.Limit);
        args.Add("Offset", paging.Offset);
        var rows = await conn.QueryAsync<LeadListItem, SourceRef, UserRef, LeadListItem>(
            new CommandDefinition(PageSql, args, cancellationToken: ct),
            (l, s, m) => { l.Source = s; l.AssignedTo = m; return l; }, splitOn: "id,id");
        return rows.AsList();
    }
}
