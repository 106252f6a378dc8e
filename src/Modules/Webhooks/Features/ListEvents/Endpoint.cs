using FastEndpoints;
using Kernel.Http;
using Modules.Webhooks.Feed;
using Npgsql;

namespace Modules.Webhooks.Features.ListEvents;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/events");
        Summary(s =>
        {
            s.Summary = "Read the workspace change feed";
            s.Description = "`{data: [{id, type, occurredAt, leadId, data}], nextCursor}`: every change in the workspace (`lead.created`, " +
                "`lead.updated`, `lead.merged`, `lead.unmerged`, `lead.deleted`, `import.completed`, `export.completed`, `bulk.completed`) " +
                "in commit order. Follow `nextCursor` (as `after`) to read on: every event is seen exactly once, including those of " +
                "transactions that committed after a later-started one — an event becomes readable only once every transaction " +
                "that started before its own has ended. An empty page means nothing new yet; poll again with the same cursor. " +
                "Events are kept 30 days. `types` filters by type; `limit` 1–1000 (default 100).";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await FeedReader.ReadAsync(conn, HttpContext.Caller().WorkspaceId, r.Cursor, r.PageSize, r.TypeList, ct);
        var next = rows.Count == 0 ? r.Cursor : rows[^1].Cursor;
        await Send.OkAsync(new Response { Data = rows.Select(FeedReader.ToEvent).ToList(), NextCursor = next.ToString() }, ct);
    }
}
