using Kernel.Ids;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Modules.Import.Jobs;

/// <summary>
/// On a worker's start, enqueues a run for every unfinished import that no worker holds. After kill -9 the
/// Hangfire job of a running import only becomes visible again once its invisibility timeout passes, and an
/// upload whose node died between commit and enqueue has no job at all; this picks both up at once. A spare
/// run is harmless: it finds the import finished, or held by the advisory lock, and returns.
/// </summary>
internal sealed class ImportRecovery(NpgsqlDataSource db, IBackgroundJobClient jobs, ILogger<ImportRecovery> log) : BackgroundService
{
    private const string OrphansSql = """
        SELECT id, file_name FROM import.imports
        WHERE status IN ('queued', 'running')
          AND pg_try_advisory_lock(hashtextextended('import:' || replace(id::text, '-', ''), 0))
        ORDER BY created_at
        """;

    private const string UnlockAllSql = "SELECT pg_advisory_unlock_all()";

    private sealed record Orphan(Guid Id, string FileName);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            List<Orphan> orphans;
            await using (var conn = await db.OpenConnectionAsync(ct))
            {
                orphans = (await conn.QueryAsync<Orphan>(new CommandDefinition(OrphansSql, cancellationToken: ct))).AsList();
                await conn.ExecuteAsync(new CommandDefinition(UnlockAllSql, cancellationToken: ct));
            }
            foreach (var o in orphans)
            {
                jobs.Enqueue<ImportLeadsJob>(j => j.RunAsync(o.Id, o.FileName, null, CancellationToken.None));
                log.LogInformation("Import {ImportId} had no running worker; enqueued it again", TypeId.Format(IdPrefix.Import, o.Id));
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            log.LogWarning(e, "Could not look for interrupted imports");
        }
    }
}
