using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.LeadStats;

internal static class Data
{
    private const string Columns = """
        coalesce(sum(n), 0)::bigint AS total,
        coalesce(sum(n) FILTER (WHERE status = 'new'), 0)::bigint AS new,
        coalesce(sum(n) FILTER (WHERE status = 'contacted'), 0)::bigint AS contacted,
        coalesce(sum(n) FILTER (WHERE status = 'qualified'), 0)::bigint AS qualified,
        coalesce(sum(n) FILTER (WHERE status = 'converted'), 0)::bigint AS converted,
        coalesce(sum(n) FILTER (WHERE status = 'closed'), 0)::bigint AS closed,
        coalesce(sum(n) FILTER (WHERE is_duplicate), 0)::bigint AS duplicates,
        coalesce(sum(n) FILTER (WHERE unassigned), 0)::bigint AS unassigned
        """;

    private static string FromCountersSql(LeadFilter f) => $"""
        SELECT {Columns}
        FROM (SELECT c.status, c.is_duplicate, c.assigned_to = '00000000-0000-0000-0000-000000000000' AS unassigned, c.n
              FROM leads.lead_counts c WHERE {f.CounterWhere}) x
        """;

    private static string FromRowsSql(LeadFilter f) => $"""
        SELECT {Columns}
        FROM (SELECT l.status, l.duplicate_of IS NOT NULL AS is_duplicate, l.assigned_to IS NULL AS unassigned, 1 AS n
              FROM leads.leads l WHERE {f.Where}) x
        """;

    public static async Task<Response> StatsAsync(NpgsqlConnection conn, LeadFilter f, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(f.CountersSuffice ? FromCountersSql(f) : FromRowsSql(f), conn);
        f.Bind(cmd.Parameters);
        if (f.GenericPlanSafe) await cmd.PrepareAsync(ct);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new Response
        {
            Total = r.GetInt64(0),
            ByStatus = new ByStatus { New = r.GetInt64(1), Contacted = r.GetInt64(2), Qualified = r.GetInt64(3), Converted = r.GetInt64(4), Closed = r.GetInt64(5) },
            Duplicates = r.GetInt64(6),
            Unassigned = r.GetInt64(7),
        };
    }
}
