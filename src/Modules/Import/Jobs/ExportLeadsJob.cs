using Kernel.Ids;
using System.Text.Json;
using Hangfire;
using Kernel.Http;
using Microsoft.Extensions.Logging;
using Modules.Import.Exports;
using Modules.Leads.Public;
using Npgsql;

// Hangfire stores this type's full name in every enqueued job: the namespace and class name must never change.
namespace Modules.Import.Jobs;

/// <summary>
/// Builds an async export's CSV (spec §3.6, ours) into <c>import.export_chunks</c>. Enqueued by
/// <c>POST /api/leads/exports</c> with the export's ID only; the filters and workspace are read from the export row.
/// </summary>
internal sealed class ExportLeadsJob(NpgsqlDataSource db, ExportSettings settings, ILogger<ExportLeadsJob> log)
{
    /// <summary>
    /// A queue of its own, served by its own workers (<c>Exports:Workers</c>): with <c>Import:Workers=1</c> one tenant's
    /// hour-long import on a shared queue held back every tenant's exports.
    /// </summary>
    public const string Queue = "export";

    /// <summary>The first run plus <see cref="AutomaticRetryAttribute"/>'s retries: after this many, the export is failed.</summary>
    internal const int MaxAttempts = 4;

    /// <summary>Test hook: runs after each chunk is written (inside the run's transaction), with the chunk count so far.</summary>
    internal Func<int, CancellationToken, Task>? AfterChunk { get; set; }

    [Queue(Queue)]
    [AutomaticRetry(Attempts = MaxAttempts - 1)]
    [TypeIdDisplayName("Export {0} to CSV", IdPrefix.Export)]
    public async Task RunAsync(Guid exportId, CancellationToken ct)
    {
        var run = await ExportRuns.ClaimAsync(db, exportId, ct);
        if (run is null)
        {
            log.LogInformation("Export {ExportId} is completed already or does not exist; nothing to do", TypeId.Format(IdPrefix.Export, exportId));
            return;
        }
        try
        {
            var result = await WriteFileAsync(run, ct);
            if (result is { } r)
                log.LogInformation("Export {ExportId} completed: {Rows} rows, {Bytes} bytes in {Chunks} chunks (attempt {Attempt})",
                    TypeId.Format(IdPrefix.Export, exportId), r.Rows, r.Bytes, r.Chunks, run.Attempts);
            else
                log.LogInformation("Export {ExportId} was completed by a concurrent run", TypeId.Format(IdPrefix.Export, exportId));
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Shutdown (Npgsql may report the interrupted read as a timeout rather than a cancellation): Hangfire runs
            // the job again on the next start; the rolled-back transaction left nothing behind.
            await ExportRuns.RequeueAsync(db, exportId);
            throw;
        }
        catch (Exception e)
        {
            var final = run.Attempts >= MaxAttempts;
            log.LogError(e, "Export {ExportId} failed on attempt {Attempt} of {MaxAttempts}", TypeId.Format(IdPrefix.Export, exportId), run.Attempts, MaxAttempts);
            await ExportRuns.FailAsync(db, exportId, final,
                $"The export failed {run.Attempts} times and was given up. Start a new export; if that fails too, report this export's ID.");
            throw;
        }
    }

    private async Task<(long Rows, long Bytes, int Chunks)?> WriteFileAsync(ExportRun run, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await ExportRuns.LockRunningAsync(conn, tx, run.Id, ct)) return null;
        await ExportRuns.DeleteChunksAsync(conn, tx, run.Id, ct);

        var filters = JsonSerializer.Deserialize<LeadExportFilters>(run.Filters, JsonConventions.Options) ?? new LeadExportFilters();
        await using var export = await LeadCsvExport.OpenAsync(db, run.WorkspaceId, filters, ct);
        await using var file = new ChunkStream(conn, tx, run.Id, settings.ChunkBytes, AfterChunk);
        var rows = await export.WriteAsync(file, ct);
        await file.CompleteAsync(ct);
        // Completed in the same transaction as the last chunk: either the whole file and "completed", or neither.
        await ExportRuns.CompleteAsync(conn, tx, run.Id, rows, file.BytesWritten, ct);
        await tx.CommitAsync(ct);
        return (rows, file.BytesWritten, file.Chunks);
    }
}
