using System.Text;
using FastEndpoints;
using Microsoft.AspNetCore.Http;
using Modules.Import.Csv;
using Kernel.Http;
using Modules.Import.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Import.Features.GetImportErrors;

internal sealed class Request
{
    /// <summary>The import's ID (<c>imp_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

/// <summary>
/// Streams the rejected rows as CSV: the file's own header plus <c>line</c> and <c>error</c>, one row per rejection
/// in file order. Fixed, it uploads again as is — the importer ignores a trailing <c>line,error</c> column pair.
/// Its cells are the uploaded file's, which the user opens in a spreadsheet to fix, so they are formula-neutralised
/// like an export's (<see cref="CsvCells"/>).
/// </summary>
internal sealed class Endpoint(NpgsqlDataSource db, TransferLimiter transfers) : Endpoint<Request>
{
    public override void Configure()
    {
        Get("/api/leads/imports/{id}/errors");
        Description(b => b.ClearDefaultProduces(200).Produces<string>(200, "text/csv").Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Rejected rows of a CSV import, as CSV";
            s.Description = "The original columns plus `line` (where the row starts in the uploaded file) and `error`; fix and re-upload. " +
                            "Cells are formula-neutralised like an export's (a leading `'` before `=`, `+`, `-`, `@`, tab, CR, LF; numbers and phone numbers unchanged). " +
                            "Read from the database a page at a time, so a slow reader holds no connection. 404 `import_not_found`; 429 `too_many_transfers` " +
                            "(with `Retry-After`) beyond `Transfers:PerKey` / `Transfers:PerWorkspace` downloads at once; a reader slower than " +
                            "`Transfers:MinBytesPerSecond` is disconnected.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = ImportLookup.ParseOrNotFound(r.Id);
        Data.Head head;
        await using (var conn = await db.OpenConnectionAsync(ct))
            head = await Data.HeadAsync(conn, HttpContext.Caller().WorkspaceId, id, ct) ?? throw ImportLookup.NotFound();
        using var slot = transfers.Acquire(HttpContext, TransferKind.Download);
        var header = head.Header ?? [];
        HttpContext.Response.ContentType = "text/csv; charset=utf-8";
        HttpContext.Response.Headers.ContentDisposition = $"attachment; filename=\"{ReportName(head.FileName)}\"";
        await using var body = new StreamWriter(HttpContext.Response.Body, new UTF8Encoding(false), 1 << 16);
        await CsvText.WriteRowAsync(body, [.. header.Select(CsvCells.Neutralise), "line", "error"]);
        long after = -1;
        for (IReadOnlyList<Data.ErrorRow> page; (page = await Data.PageAsync(db, id, after, PageBytes, ct)).Count > 0; after = page[^1].RowNo)
        {
            foreach (var e in page)
            {
                var fields = new string[header.Length + 2];
                for (var i = 0; i < header.Length; i++) fields[i] = i < e.Fields.Length ? CsvCells.Neutralise(e.Fields[i]) : "";
                fields[^2] = e.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
                fields[^1] = CsvCells.Neutralise(e.Message);
                await CsvText.WriteRowAsync(body, fields);
            }
        }
    }

    /// <summary>Field text read per page (a page holds at least one row, however long).</summary>
    internal const int PageBytes = 1 << 20;

    private static string ReportName(string fileName)
    {
        var stem = Path.GetFileNameWithoutExtension(fileName);
        var safe = new string(stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return $"{(safe.Length == 0 ? "import" : safe)}-errors.csv";
    }
}
