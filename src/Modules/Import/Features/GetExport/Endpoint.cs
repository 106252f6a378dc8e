using FastEndpoints;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Modules.Import.Exports;
using Npgsql;

namespace Modules.Import.Features.GetExport;

internal sealed class Request
{
    /// <summary>The export's ID (<c>exp_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, ExportView>
{
    public override void Configure()
    {
        Get("/api/leads/exports/{id}");
        Description(b => b.Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Status of a CSV export";
            s.Description = """
                `status`: `queued`, `running`, `completed` or `failed`. `rowCount`, `byteCount` and `fileUrl` appear once
                completed; `failureReason` once failed (a failed run is retried automatically a few times first, showing
                `queued` again meanwhile). 404 `export_not_found` for an unknown ID or another workspace's export.
                """;
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = ExportProblems.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        var export = await ExportReads.FindAsync(conn, HttpContext.Caller().WorkspaceId, id, ct) ?? throw ExportProblems.NotFound();
        await Send.OkAsync(export, ct);
    }
}
