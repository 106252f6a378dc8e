using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Kernel.Data;
using Npgsql;

namespace Modules.Import.Jobs;

/// <summary>What one retention pass deleted.</summary>
internal sealed record RetentionResult(long AbandonedUploads, long RowErrors, long Exports);

/// <summary>
/// Keeps the Import module's storage bounded, every <c>Retention:SweepPeriod</c> (5 minutes) on each worker node:
/// uploads whose client went silent (<c>uploading</c>, untouched for <c>Import:AbandonedUploadAfter</c>, with their
/// pieces), the rejected rows of imports finished longer ago than <c>Import:ErrorRetention</c> (the import and its
/// counts stay), and exports finished longer ago than <c>Exports:Retention</c> (with their file: the export is then
/// not found). Deletes go in bounded batches, so a pass never holds a long transaction; several nodes running it at
/// once only share the work.
/// </summary>
internal sealed class ImportRetention(NpgsqlDataSource db, IConfiguration config)
{
    private const int Batch = 1000;

    private const string UploadsSql = """
        DELETE FROM import.imports
        WHERE id = ANY(ARRAY(SELECT id FROM import.imports WHERE status = 'uploading' AND updated_at < now() - @Age LIMIT 20))
        """;

    private const string RowErrorsSql = """
        DELETE FROM import.row_errors
        WHERE ctid = ANY(ARRAY(
            SELECT e.ctid FROM import.imports i JOIN import.row_errors e ON e.import_id = i.id
            WHERE i.status IN ('completed', 'failed') AND i.finished_at < now() - @Age
            LIMIT @Batch))
        """;

    // Few exports per statement: each takes its whole file (up to a GiB of chunks) with it.
    private const string ExportsSql = """
        DELETE FROM import.exports
        WHERE id = ANY(ARRAY(SELECT id FROM import.exports WHERE status IN ('completed', 'failed') AND finished_at < now() - @Age LIMIT 5))
        """;

    public TimeSpan AbandonedUploadAfter => config.GetValue("Import:AbandonedUploadAfter", TimeSpan.FromHours(1));
    public TimeSpan ErrorRetention => config.GetValue("Import:ErrorRetention", TimeSpan.FromDays(30));
    public TimeSpan ExportRetention => config.GetValue("Exports:Retention", TimeSpan.FromDays(7));

    public async Task<RetentionResult> RunAsync(CancellationToken ct)
    {
        var uploads = await RepeatAsync(UploadsSql, AbandonedUploadAfter, 20, ct);
        var errors = await RepeatAsync(RowErrorsSql, ErrorRetention, Batch, ct);
        var exports = await RepeatAsync(ExportsSql, ExportRetention, 5, ct);
        return new RetentionResult(uploads, errors, exports);
    }

    private Task<long> RepeatAsync(string sql, TimeSpan age, int batch, CancellationToken ct) =>
        BatchedDelete.RepeatAsync(db, sql, new { Age = age, Batch }, batch, ct);
}

/// <summary>Runs <see cref="ImportRetention"/> every <c>Retention:SweepPeriod</c> on a worker node.</summary>
internal sealed class ImportRetentionLoop(ImportRetention retention, IConfiguration config, ILogger<ImportRetentionLoop> log)
    : RetentionSweepLoop(config, log)
{
    protected override string What => "Retention pass";

    protected override async Task PassAsync(CancellationToken ct)
    {
        var r = await retention.RunAsync(ct);
        if (r.AbandonedUploads + r.RowErrors + r.Exports > 0)
            Log.LogInformation("Retention: {Uploads} abandoned uploads, {RowErrors} rejected rows, {Exports} exports deleted",
                r.AbandonedUploads, r.RowErrors, r.Exports);
    }
}
