using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
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

    private const string FromCountersSql = $"""
        SELECT {Columns}
        FROM (SELECT c.status, c.is_duplicate, c.assigned_to = '00000000-0000-0000-0000-000000000000' AS unassigned, c.n
              FROM leads.lead_counts c WHERE {LeadFilter.CounterWhere}) x
        """;

    private const string FromRowsSql = $"""
        SELECT {Columns}
        FROM (SELECT l.status, l.duplicate_of IS NOT NULL AS is_duplicate, l.assigned_to IS NULL AS unassigned, 1 AS n
              FROM leads.leads l WHERE {LeadFilter.Where}) x
        """;

    private sealed record Row(long Total, long New, long Contacted, long Qualified, long Converted, long Closed, long Duplicates, long Unassigned);

    public static async Task<Response> StatsAsync(NpgsqlConnection conn, LeadFilter f, CancellationToken ct)
    {
        var r = await conn.QuerySingleAsync<Row>(new CommandDefinition(f.CountersSuffice ? FromCountersSql : FromRowsSql, f, cancellationToken: ct));
        return new Response
        {
            Total = r.Total,
            ByStatus = new ByStatus { New = r.New, Contacted = r.Contacted, Qualified = r.Qualified, Converted = r.Converted, Closed = r.Closed },
            Duplicates = r.Duplicates,
            Unassigned = r.Unassigned,
        };
    }
}
