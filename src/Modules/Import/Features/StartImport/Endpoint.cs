using FastEndpoints;
using Hangfire;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Modules.Import.Csv;
using Modules.Import.Jobs;
using Npgsql;

namespace Modules.Import.Features.StartImport;

internal sealed class Endpoint(NpgsqlDataSource db, ImportOptions limits, IBackgroundJobClient jobs, TransferLimiter transfers) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Post("/api/leads/import");
        Policies(AuthPolicies.Write);
        Description(b => b
            .Accepts<Form>(isOptional: true, "multipart/form-data", "text/csv", "*/*")
            .ClearDefaultProduces(200)
            .Produces<Response>(202, "application/json")
            .Produces<ProblemBody>(400, Problems.ContentType)
            .Produces<ProblemBody>(413, Problems.ContentType)
            .Produces<ProblemBody>(415, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Upload a CSV file of leads to import in the background";
            s.Description = "Multipart field `file`, or a raw `text/csv` body (name it with `?fileName=`). Options as query or form fields: " +
                            "`sourceId`, `onDuplicate` (`flag` | `skip`), `dryRun`. 202 with the import's `id` and `statusUrl`. " +
                            "400 `missing_header` for an empty file or a first line naming no lead column; 413 `payload_too_large` " +
                            "over `Import:MaxBytes` (1 GiB by default). 429 `too_many_transfers` (with `Retry-After`) while the key " +
                            "or workspace already has `Transfers:PerKey` / `Transfers:PerWorkspace` uploads running; a client sending " +
                            "slower than `Transfers:MinBytesPerSecond` is disconnected.";
        });
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var options = new Request();
        foreach (var name in Request.Names)
            if (HttpContext.Request.Query.TryGetValue(name, out var v)) options.Set(name, v.ToString());
        if (HttpContext.Request.ContentLength > limits.MaxBytes + 64 * 1024) throw Upload.TooLarge(limits.MaxBytes);
        // Kestrel's 30 MB default would cut a large file short; Import:MaxBytes is enforced while streaming instead.
        if (HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } f) f.MaxRequestBodySize = null;

        using var slot = transfers.Acquire(HttpContext, TransferKind.Upload);
        var id = Guid.CreateVersion7();
        await Data.InsertAsync(db, id, caller.WorkspaceId, caller.MemberId, ct);
        Received file;
        try
        {
            file = await new Upload(db, id, limits.MaxBytes).ReceiveAsync(HttpContext.Request, options, ct);
            options.ThrowIfInvalid();
            RequireHeader(file.Prefix);
            // Only this short transaction runs after the body is in: nothing waits on the client inside one.
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            if (options.SourceId is { } sid && !await Data.SourceExistsAsync(conn, tx, caller.WorkspaceId, sid, ct))
                throw ApiProblemException.Validation("sourceId", "sourceId does not name a source of this workspace.");
            if (!await Data.FinishAsync(conn, tx, id, file.FileName, file.Size, options, ct))
                throw new InvalidOperationException($"Import {id} was swept as abandoned while its upload was finishing.");
            await tx.CommitAsync(ct);
        }
        catch
        {
            await Data.DiscardAsync(db, id);
            throw;
        }

        jobs.Enqueue<ImportLeadsJob>(j => j.RunAsync(id, file.FileName, null, CancellationToken.None));
        var url = $"/api/leads/imports/{TypeId.Format(IdPrefix.Import, id)}";
        HttpContext.Response.Headers.Location = url;
        await Send.ResponseAsync(new Response(TypeId.Format(IdPrefix.Import, id), "queued", url), 202, ct);
    }

    /// <summary>A file whose first non-blank line names no lead column has no header (spec §3.7): refused before any job runs.</summary>
    private static void RequireHeader(byte[] prefix)
    {
        var shape = CsvSniffer.Sniff(prefix) ?? throw MissingHeader("The file is empty: the first line must be a header row.");
        if (!ColumnMap.From(shape.Header).HasLeadColumn)
            throw MissingHeader("The first line is not a header: it names none of email, firstName, lastName, phone, company " +
                                "(or an alias such as Email Address, Phone Number, Company Name).");
    }

    private static ApiProblemException MissingHeader(string detail) => new(400, "missing_header", "Missing header row", detail);
}
