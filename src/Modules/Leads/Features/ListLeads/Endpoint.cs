using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ListLeads;

internal sealed class Endpoint(ReadDataSource db, ListCache cache) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/leads");
        Summary(s =>
        {
            s.Summary = "List leads (newest first, or by `sort`), by page or cursor";
            s.Description = """
                Filters combine with AND. `pagination.total` is exact. `sort`: `createdAt` (default `-createdAt`), `updatedAt`,
                `score`, `lastName`, `company`; `-` for descending; ties by ID in the same direction. `updatedSince` (inclusive) and
                `updatedBefore` (exclusive) filter on the last change. Every page carries `pagination.nextCursor` (null on the
                last page): send it as `cursor` (instead of `page`) for the next page in the same order — following cursors returns
                each lead that existed throughout and kept its sort key exactly once, however many leads are created, changed or
                deleted meanwhile, and costs the same at any depth. `page` is null on a page asked for by cursor.
                Invalid values (bad status, date, ID, sort, cursor, page=0, limit>100, page with cursor) → 400 naming the parameter.
                """;
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var (filter, _) = LeadFilter.Parse(HttpContext.Caller().WorkspaceId, r);
        var (paging, _) = Paging.Parse(r.Page, r.Limit);
        var cursor = r.Cursor is null ? null : ListCursor.Decode(r.Cursor);
        var sort = r.EffectiveSort(cursor);
        await using var conn = await db.OpenConnectionAsync(ct);
        long total;
        List<LeadListItem> rows;
        ListCursor? next;
        if (cursor is null && sort.IsDefault && filter!.Cacheable)
        {
            // The published list: the cached newest-first path (ListCache), its next cursor taken from the last row.
            (total, rows) = await Data.PageAsync(conn, filter, paging, cache, ct);
            next = rows.Count == paging.Limit && paging.Offset + rows.Count < total ? new ListCursor(sort, rows[^1].CreatedAt, rows[^1].Id) : null;
        }
        else (total, rows, next) = await Data.SortedPageAsync(conn, filter!, sort, paging, cursor, cache, ct);
        var pagination = new ListPagination(cursor is null ? paging.Page : null, paging.Limit, total, (total + paging.Limit - 1) / paging.Limit,
            next?.Encode());
        await Send.OkAsync(new Response(rows, pagination), ct);
    }
}
