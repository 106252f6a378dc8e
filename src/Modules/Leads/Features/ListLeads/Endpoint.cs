using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ListLeads;

internal sealed class Endpoint(ReadDataSource db, ListCache cache) : Endpoint<Request, PagedResponse<LeadListItem>>
{
    public override void Configure()
    {
        Get("/api/leads");
        Summary(s =>
        {
            s.Summary = "List leads, newest first";
            s.Description = "Filters combine with AND. `pagination.total` is exact. Invalid values (bad status, date, ID, page=0, limit>100) → 400 naming the parameter.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var (filter, _) = LeadFilter.Parse(HttpContext.Caller().WorkspaceId, r);
        var (paging, _) = Paging.Parse(r.Page, r.Limit);
        await using var conn = await db.OpenConnectionAsync(ct);
        var (total, rows) = await Data.PageAsync(conn, filter!, paging, cache, ct);
        await Send.OkAsync(new PagedResponse<LeadListItem>(rows, Pagination.Of(paging, total)), ct);
    }
}
