using FastEndpoints;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ListLeadEvents;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, PagedResponse<EventView>>
{
    public override void Configure()
    {
        Get("/api/leads/{id}/events");
        Summary(s =>
        {
            s.Summary = "A lead's timeline, newest first";
            s.Description = "Paged like the list. The oldest entry is always `created`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var workspaceId = HttpContext.Caller().WorkspaceId;
        var id = LeadLookup.ParseOrNotFound(r.Id);
        var (paging, _) = Paging.Parse(r.Page, r.Limit);
        await using var conn = await db.OpenConnectionAsync(ct);
        var head = await Data.LeadAsync(conn, workspaceId, id, ct) ?? throw await LeadLookup.MissingAsync(conn, null, workspaceId, id, ct);
        var total = head.EventCount + 1;
        var events = paging.Offset < head.EventCount ? await Data.EventsAsync(conn, id, paging, ct) : [];
        // The synthesised `created` entry sits at index EventCount (the very end, newest first).
        if (paging.Offset <= head.EventCount && head.EventCount < paging.Offset + paging.Limit) events.Add(Data.Created(head));
        await Send.OkAsync(new PagedResponse<EventView>(events, Pagination.Of(paging, total)), ct);
    }
}
