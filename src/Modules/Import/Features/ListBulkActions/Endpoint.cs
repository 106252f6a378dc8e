using FastEndpoints;
using Kernel.Http;
using Modules.Import.Bulk;
using Npgsql;

namespace Modules.Import.Features.ListBulkActions;

internal sealed record Pagination(int Page, int Limit, long Total, long Pages);

internal sealed record Response(IReadOnlyList<BulkActionView> Data, Pagination Pagination);

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<PageQuery, Response>
{
    public override void Configure()
    {
        Get("/api/leads/bulk");
        Summary(s =>
        {
            s.Summary = "The workspace's bulk actions, newest first";
            s.Description = "Each item is the status of `GET /api/leads/bulk/{id}`. Paged like the lead list (`page`, `limit`).";
        });
    }

    public override async Task HandleAsync(PageQuery r, CancellationToken ct)
    {
        int page = r.PageNumber, limit = r.PageSize;
        await using var conn = await db.OpenConnectionAsync(ct);
        var (total, rows) = await BulkRuns.PageAsync(conn, HttpContext.Caller().WorkspaceId, limit, (long)(page - 1) * limit, ct);
        await Send.OkAsync(new Response(rows, new Pagination(page, limit, total, (total + limit - 1) / limit)), ct);
    }
}
