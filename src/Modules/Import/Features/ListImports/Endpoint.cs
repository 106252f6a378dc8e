using FastEndpoints;
using Kernel.Http;
using Modules.Import.Data;
using Npgsql;

namespace Modules.Import.Features.ListImports;

internal sealed record Pagination(int Page, int Limit, long Total, long Pages);

internal sealed record Response(IReadOnlyList<ImportView> Data, Pagination Pagination);

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<PageQuery, Response>
{
    public override void Configure()
    {
        Get("/api/leads/imports");
        Summary(s =>
        {
            s.Summary = "The workspace's CSV imports, newest first";
            s.Description = "Each item is the status of `GET /api/leads/imports/{id}` without `errors`. Paged like the lead list.";
        });
    }

    public override async Task HandleAsync(PageQuery r, CancellationToken ct)
    {
        var ws = HttpContext.Caller().WorkspaceId;
        int page = r.PageNumber, limit = r.PageSize;
        await using var conn = await db.OpenConnectionAsync(ct);
        var total = await Data.CountAsync(conn, ws, ct);
        var rows = await Data.PageAsync(conn, ws, limit, (long)(page - 1) * limit, ct);
        await Send.OkAsync(new Response(rows, new Pagination(page, limit, total, (total + limit - 1) / limit)), ct);
    }
}
