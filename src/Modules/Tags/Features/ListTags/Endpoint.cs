using FastEndpoints;
using Kernel.Http;
using Npgsql;

namespace Modules.Tags.Features.ListTags;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/tags");
        Summary(s =>
        {
            s.Summary = "List the workspace's tags";
            s.Description = "`{ data: [{id, name, leadCount, createdAt}] }`, ordered by name (case-insensitive). `search` keeps the " +
                            "tags whose name starts with it, case-insensitively. Not paged; the `data` envelope leaves room to add paging.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var search = string.IsNullOrWhiteSpace(r.Search) ? null : r.Search.Trim();
        await using var conn = await db.OpenConnectionAsync(ct);
        await Send.OkAsync(new Response { Data = await Data.ListAsync(conn, HttpContext.Caller().WorkspaceId, search, ct) }, ct);
    }
}
