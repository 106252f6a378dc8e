using System.Data;
using FastEndpoints;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Modules.Import.Exports;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Import.Features.DownloadExport;

internal sealed class Request
{
    /// <summary>The export's ID (<c>exp_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, ILogger<Endpoint> log) : Endpoint<Request>
{
    public override void Configure()
    {
        Get("/api/leads/exports/{id}/file");
        Description(b => b
            .ClearDefaultProduces(200, 204)
            .Produces<string>(200, "text/csv")
            .Produces<ProblemBody>(404, Problems.ContentType)
            .Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Download a completed CSV export";
            s.Description = """
                The CSV (`text/csv; charset=utf-8`, `Content-Disposition: attachment; filename="leads-YYYYMMDD.csv"` with the
                export's creation date, `Content-Length`), streamed from storage. 409 `export_not_ready` until the export is
                completed (or when it failed); 404 `export_not_found` for an unknown ID or another workspace's export.
                """;
            s.Responses[200] = "The CSV file, streamed.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = ExportProblems.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        // One snapshot for the status check and the chunks.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var export = await ExportReads.FindAsync(conn, HttpContext.Caller().WorkspaceId, id, ct, tx) ?? throw ExportProblems.NotFound();
        if (export.Status != ExportStatus.Completed) throw ExportProblems.NotReady(export.Status);

        await using var cmd = Data.ChunksCommand(conn, tx, id);
        var chunks = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        var response = HttpContext.Response;
        response.ContentType = LeadCsvExport.ContentType;
        response.Headers.ContentDisposition = LeadCsvExport.ContentDisposition(export.CreatedAt);
        response.ContentLength = export.ByteCount;
        var abandoned = false;
        try
        {
            while (await chunks.ReadAsync(ct))
            {
                await using var chunk = await chunks.GetStreamAsync(0, ct);
                await chunk.CopyToAsync(response.Body, ct);
            }
        }
        catch (Exception e)
        {
            // Closing the reader would otherwise pull the remaining chunks over the wire for nobody.
            abandoned = true;
            Data.Cancel(cmd);
            if (ct.IsCancellationRequested)
            {
                // The client went away (Npgsql may report that as a cancellation, a timeout or a broken connection).
                log.LogInformation("Export {ExportId} download stopped: the client disconnected ({Reason})", id, e.GetType().Name);
                return;
            }
            if (!response.HasStarted) throw;
            // Too late for a problem response, and a cleanly ended body would look like a complete file: abort instead.
            log.LogError(e, "Export {ExportId} download failed after the response started; aborting the connection", id);
            HttpContext.Abort();
        }
        finally
        {
            await Data.CloseAsync(chunks, abandoned);
        }
    }
}
