using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ExportLeads;

internal sealed class Endpoint(ReadDataSource db, TimeProvider clock, TransferLimiter transfers, SpoolStore spools, ILogger<Endpoint> log) : Endpoint<Request>
{
    public override void Configure()
    {
        Get("/api/leads/export");
        Description(b => b
            .ClearDefaultProduces(200, 204)
            .Produces<string>(200, "text/csv")
            .Produces<ProblemBody>(400, Problems.ContentType)
            .Produces<ProblemBody>(422, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Download leads as CSV";
            s.Description = """
                Streams every lead matching the list's filters (no paging), in the list's `sort` order (default newest first), as `text/csv; charset=utf-8` with
                `Content-Disposition: attachment; filename="leads-YYYYMMDD.csv"`. Columns: `id,email,firstName,lastName,phone,
                company,status,score,source,assignedTo,tags,isDuplicate,createdAt`; `tags` joins names with `;`. Cells a
                spreadsheet would run as a formula get a leading `'` (numbers and phone numbers excepted). One consistent
                snapshot; memory use does not grow with the number of leads. Invalid filters → 400 naming the parameter.
                The database is read at its own pace into a spool on the server (memory, then a temporary file) and the download
                is served from there, so a slow reader holds no database connection. An export that cannot fit the spool
                (`Exports:SpoolMaxBytes`, 1 GiB by default; judged up front from its number of leads) → 422 `export_too_large`:
                use `POST /api/leads/exports`, which builds the file in the background. If its rows turn out longer than the
                count allowed for, the download is cut off (the connection is aborted, never a file that looks complete).
                Downloads count against `Transfers:PerKey` / `Transfers:PerWorkspace` (429 `too_many_transfers` with
                `Retry-After` beyond) and a reader slower than `Transfers:MinBytesPerSecond` is cut off.
                """;
            s.Responses[200] = "The CSV file, streamed.";
        });
    }

    public const string ExportTooLarge = "export_too_large";

    // The shortest row an export can have: a lead's TypeID, status "new", a one-digit score, "true", the timestamp,
    // twelve commas and CRLF. A count times this over the spool's bound cannot fit, whatever the data.
    internal static readonly int MinRowBytes =
        Kernel.Ids.TypeId.Format(Kernel.Ids.IdPrefix.Lead, Guid.Empty).Length + "new".Length + 1 + "true".Length + "2026-01-01T00:00:00.000Z".Length + 12 + 2;

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var (filter, _) = LeadFilter.Parse(HttpContext.Caller().WorkspaceId, r);
        LeadSort.TryParse(r.Sort, out var sort);
        using var slot = transfers.Acquire(HttpContext, TransferKind.Download);
        var response = HttpContext.Response;
        var header = LeadCsvExport.Columns.Sum(c => c.Length) + LeadCsvExport.Columns.Count + 1;
        var maxRows = Math.Max(0, (spools.MaxBytes - header) / MinRowBytes);
        // The query starts before any byte is sent: a database failure or the size check is still a clean problem response.
        var export = await LeadCsvExport.OpenAsync(db.Bulk, filter!, sort, maxRows, ct) ?? throw TooLarge(maxRows);
        using var spool = spools.Create();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The database side runs at the database's pace into the spool and lets go of its connection and snapshot as
        // soon as the last row is read; the client is served from the spool at its own pace.
        var producer = Task.Run(async () =>
        {
            await using (export)
            {
                try
                {
                    await export.WriteAsync(spool.Writer, stop.Token);
                    spool.Complete();
                }
                catch (Exception e)
                {
                    spool.Fail(e);
                }
            }
        }, CancellationToken.None);
        try
        {
            await ServeAsync(spool, response, ct);
        }
        catch (Exception e) when (ct.IsCancellationRequested)
        {
            // The client went away (or read slower than Transfers:MinBytesPerSecond and was cut off): the database side
            // is stopped below; nobody is waiting for the rest, and it is no server error.
            log.LogInformation("CSV export stopped: the client disconnected ({Reason})", e.GetType().Name);
        }
        catch (Exception e) when (response.HasStarted)
        {
            // Too late for a problem response. Ending the chunked body normally would hand the client a truncated file
            // that looks complete; aborting the connection makes the failure visible to it.
            if (e.InnerException is SpoolFullException full) log.LogWarning("CSV export aborted: {Reason}", full.Message);
            else log.LogError(e, "CSV export failed after the response started; aborting the connection");
            HttpContext.Abort();
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
        }
    }

    /// <summary>Copies the spool to the response; headers go out with the first bytes, so an early failure is still a problem.</summary>
    private async Task ServeAsync(Spool spool, HttpResponse response, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        int n;
        try
        {
            n = await spool.ReadAsync(buffer, ct);
        }
        catch (IOException e) when (e.InnerException is { } cause && !ct.IsCancellationRequested)
        {
            // Nothing sent yet: the database's failure answers as it would have without the spool.
            if (cause is SpoolFullException) throw TooLarge(0);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(cause).Throw();
            throw;
        }
        response.ContentType = LeadCsvExport.ContentType;
        response.Headers.ContentDisposition = LeadCsvExport.ContentDisposition(clock.GetUtcNow());
        while (n > 0)
        {
            await response.Body.WriteAsync(buffer.AsMemory(0, n), ct);
            n = await spool.ReadAsync(buffer, ct);
        }
    }

    private ApiProblemException TooLarge(long maxRows) => new(422, ExportTooLarge, "Export too large to download directly",
        (maxRows > 0 ? $"This export has more than {maxRows} leads, more" : "This export is larger") +
        $" than a direct download may hold (Exports:SpoolMaxBytes, {spools.MaxBytes} bytes). Start an async export with POST /api/leads/exports and download its file, or narrow the filters.");
}
