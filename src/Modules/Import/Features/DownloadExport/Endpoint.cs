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

internal sealed class Endpoint(NpgsqlDataSource db, TransferLimiter transfers, ILogger<Endpoint> log) : Endpoint<Request>
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
                export's creation date, `Content-Length`), streamed from storage one stored piece at a time (no database
                connection waits on the reader). 429 `too_many_transfers` (with `Retry-After`) while the key or workspace
                already has `Transfers:PerKey` / `Transfers:PerWorkspace` downloads running; a reader slower than
                `Transfers:MinBytesPerSecond` is disconnected. 409 `export_not_ready` until the export is
                completed (or when it failed); 404 `export_not_found` for an unknown ID or another workspace's export.
                """;
            s.Responses[200] = "The CSV file, streamed.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = ExportProblems.ParseOrNotFound(r.Id);
        ExportView export;
        await using (var conn = await db.OpenConnectionAsync(ct))
            export = await ExportReads.FindAsync(conn, HttpContext.Caller().WorkspaceId, id, ct) ?? throw ExportProblems.NotFound();
        if (export.Status != ExportStatus.Completed) throw ExportProblems.NotReady(export.Status);
        using var slot = transfers.Acquire(HttpContext, TransferKind.Download);

        var response = HttpContext.Response;
        response.ContentType = LeadCsvExport.ContentType;
        response.Headers.ContentDisposition = LeadCsvExport.ContentDisposition(export.CreatedAt);
        response.ContentLength = export.ByteCount;
        long sent = 0;
        try
        {
            for (var seq = 0; await Data.ChunkAsync(db, id, seq, ct) is { } chunk; seq++)
            {
                await response.Body.WriteAsync(chunk, ct);
                sent += chunk.Length;
            }
            if (sent != export.ByteCount)
                throw new InvalidOperationException($"Export {id} ended after {sent} of {export.ByteCount} bytes (deleted by retention meanwhile?)");
        }
        catch (Exception e)
        {
            if (ct.IsCancellationRequested)
            {
                // The client went away, or read slower than Transfers:MinBytesPerSecond and was cut off.
                log.LogInformation("Export {ExportId} download stopped: the client disconnected ({Reason})", id, e.GetType().Name);
                return;
            }
            if (!response.HasStarted) throw;
            // Too late for a problem response, and a cleanly ended body would look like a complete file: abort instead.
            log.LogError(e, "Export {ExportId} download failed after the response started; aborting the connection", id);
            HttpContext.Abort();
        }
    }
}
