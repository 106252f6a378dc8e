using FastEndpoints;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Modules.Import.Bulk;
using Npgsql;

namespace Modules.Import.Features.GetBulkAction;

internal sealed class Request
{
    /// <summary>The bulk action's ID (<c>blk_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, BulkActionView>
{
    public override void Configure()
    {
        Get("/api/leads/bulk/{id}");
        Description(b => b.Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Status and progress of a bulk action";
            s.Description = """
                `status`: `queued`, `running`, `completed` or `failed`. `processed` of `matched` leads are done; `changed` of them
                changed (the others already had that status, assignee or tag); `failed` were deleted or merged away before their
                turn. `failureReason` once failed (a failed run is retried a few times first). 404 `bulk_action_not_found` for an
                unknown ID or another workspace's action.
                """;
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = BulkProblems.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await Send.OkAsync(await BulkRuns.FindAsync(conn, HttpContext.Caller().WorkspaceId, id, ct) ?? throw BulkProblems.NotFound(), ct);
    }
}
