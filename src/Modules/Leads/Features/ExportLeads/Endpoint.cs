using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ExportLeads;

internal sealed class Endpoint(ReadDataSource db, TimeProvider clock, TransferLimiter transfers, ILogger<Endpoint> log) : Endpoint<Request>
{
    public override void Configure()
    {
        Get("/api/leads/export");
        Description(b => b
            .ClearDefaultProduces(200, 204)
            .Produces<string>(200, "text/csv")
            .Produces<ProblemBody>(400, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Download leads as CSV";
            s.Description = """
                Streams every lead matching the list's filters (no paging), in the list's `sort` order (default newest first), as `text/csv; charset=utf-8` with
                `Content-Disposition: attachment; filename="leads-YYYYMMDD.csv"`. Columns: `id,email,firstName,lastName,phone,
                company,status,score,source,assignedTo,tags,isDuplicate,createdAt`; `tags` joins names with `;`. Cells a
                spreadsheet would run as a formula get a leading `'` (numbers and phone numbers excepted). One consistent
                snapshot; memory use does not grow with the number of leads. Invalid filters → 400 naming the parameter.
                For very large exports, `POST /api/leads/exports` builds the file in the background. The snapshot is held while
                the client reads, so such downloads count against `Transfers:PerKey` / `Transfers:PerWorkspace` (429
                `too_many_transfers` with `Retry-After` beyond) and a reader slower than `Transfers:MinBytesPerSecond` is cut off.
                """;
            s.Responses[200] = "The CSV file, streamed.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var (filter, _) = LeadFilter.Parse(HttpContext.Caller().WorkspaceId, r);
        LeadSort.TryParse(r.Sort, out var sort);
        using var slot = transfers.Acquire(HttpContext, TransferKind.Download);
        var response = HttpContext.Response;
        try
        {
            // The query starts before any byte is sent: a database failure here is still a clean problem response.
            await using var export = await LeadCsvExport.OpenAsync(db.Bulk, filter!, sort, ct);
            response.ContentType = LeadCsvExport.ContentType;
            response.Headers.ContentDisposition = LeadCsvExport.ContentDisposition(clock.GetUtcNow());
            await export.WriteAsync(response.Body, ct);
        }
        catch (Exception e) when (ct.IsCancellationRequested)
        {
            // The client went away. Npgsql may report the interrupted read as a cancellation, a timeout or a broken
            // connection; either way the query is stopped, nobody is waiting for the rest, and it is no server error.
            log.LogInformation("CSV export stopped: the client disconnected ({Reason})", e.GetType().Name);
        }
        catch (Exception) when (!response.HasStarted)
        {
            // Nothing sent yet: the problem response must not arrive as a CSV attachment.
            response.Headers.ContentDisposition = default;
            throw;
        }
        catch (Exception e)
        {
            // Too late for a problem response. Ending the chunked body normally would hand the client a truncated file
            // that looks complete; aborting the connection makes the failure visible to it.
            log.LogError(e, "CSV export failed after the response started; aborting the connection");
            HttpContext.Abort();
        }
    }
}
