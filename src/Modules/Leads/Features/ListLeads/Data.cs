using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Leads.Features.ListLeads;

internal static class Data
{
    /// <summary>
    /// The page statement for this filter. The inner query finds the page's IDs on an index alone (deep pages skip
    /// index entries, not rows); only those rows are then read and joined. The row limit is a literal, rounded up
    /// to <see cref="LimitBucket"/>: a generic plan for <c>LIMIT $n</c> assumes a tenth of the table is wanted and
    /// turns into a sequential scan and sort, while a literal keeps it the index walk it is, and the buckets keep
    /// the prepared statements per connection few (4 per filter combination). Rows past the asked limit are not read.
    /// Page 1 carries no OFFSET at all: a generic plan prices an <c>OFFSET $n</c> as a tenth of the table too, so
    /// PostgreSQL would keep re-planning it; deeper pages bind their offset and are planned for it.
    /// </summary>
    private static string PageSql(LeadFilter f, int limitBucket, bool firstPage) => $"""
        SELECT {LeadListItem.Columns}
        FROM (
            SELECT l.id, l.created_at FROM leads.leads l
            WHERE {f.Where}
            ORDER BY l.created_at DESC, l.id DESC
            LIMIT {limitBucket}{(firstPage ? "" : " OFFSET @Offset")}
        ) p
        JOIN leads.leads l ON l.id = p.id
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        ORDER BY p.created_at DESC, p.id DESC
        """;

    /// <summary>
    /// The exact total and the page. Page 1 of a filter the counters answer — the common request — is one round trip:
    /// both statements in one prepared batch, planned once per connection. Otherwise the total comes first, and a page
    /// past the end is not read at all (an offset beyond the last row would walk the whole index for nothing).
    /// </summary>
    public static async Task<(long Total, List<LeadListItem> Rows)> PageAsync(NpgsqlConnection conn, LeadFilter f, Paging paging, CancellationToken ct)
    {
        if (paging.Offset == 0 && f.GenericPlanSafe)
        {
            await using var batch = new NpgsqlBatch(conn);
            var count = new NpgsqlBatchCommand(f.CountSql);
            f.Bind(count.Parameters);
            var page = new NpgsqlBatchCommand(PageSql(f, LimitBucket(paging.Limit), firstPage: true));
            Bind(page.Parameters, f, paging);
            batch.BatchCommands.Add(count);
            batch.BatchCommands.Add(page);
            await batch.PrepareAsync(ct);
            await using var r = await batch.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            var total = r.GetInt64(0);
            await r.NextResultAsync(ct);
            return (total, await ReadRowsAsync(r, paging.Limit, ct));
        }

        var t = await f.CountAsync(conn, ct);
        if (paging.Offset >= t) return (t, []);
        await using var cmd = new NpgsqlCommand(PageSql(f, LimitBucket(paging.Limit), paging.Offset == 0), conn);
        Bind(cmd.Parameters, f, paging);
        if (f.GenericPlanSafe && paging.Offset == 0) await cmd.PrepareAsync(ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return (t, await ReadRowsAsync(reader, paging.Limit, ct));
    }

    private static void Bind(NpgsqlParameterCollection p, LeadFilter f, Paging paging)
    {
        f.Bind(p);
        if (paging.Offset > 0) p.Add(new NpgsqlParameter<long>("Offset", NpgsqlDbType.Bigint) { TypedValue = paging.Offset });
    }

    /// <summary>The literal LIMIT the statement carries for a page of <paramref name="limit"/> (1–100) rows.</summary>
    internal static int LimitBucket(int limit) => limit <= 10 ? 10 : limit <= 20 ? 20 : limit <= 50 ? 50 : Paging.MaxLimit;

    private static async Task<List<LeadListItem>> ReadRowsAsync(NpgsqlDataReader r, int limit, CancellationToken ct)
    {
        var rows = new List<LeadListItem>(limit);
        while (rows.Count < limit && await r.ReadAsync(ct)) rows.Add(LeadListItem.Read(r));
        return rows;
    }
}
