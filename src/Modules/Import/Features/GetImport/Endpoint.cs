using FastEndpoints;
using Microsoft.AspNetCore.Http;
using Kernel.Http;
using Modules.Import.Data;
using Npgsql;

namespace Modules.Import.Features.GetImport;

internal sealed class Request
{
    /// <summary>The import's ID (<c>imp_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, ImportView>
{
    public override void Configure()
    {
        Get("/api/leads/imports/{id}");
        Description(b => b.Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Status and counters of a CSV import";
            s.Description = "Progress moves at least every 10,000 rows; `processedRows = created + skipped + failed` at every moment. " +
                            "`errors` holds the first 100 rejected rows; `errorsUrl` serves all of them as CSV. 404 `import_not_found`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = ImportLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        var view = await Data.GetAsync(conn, HttpContext.Caller().WorkspaceId, id, ct) ?? throw ImportLookup.NotFound();
        view.Errors = await Data.FirstErrorsAsync(conn, id, ct);
        await Send.OkAsync(view, ct);
    }
}
