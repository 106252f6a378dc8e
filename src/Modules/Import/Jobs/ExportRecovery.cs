using Kernel.Ids;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Modules.Import.Jobs;

/// <summary>
/// On a worker's start, puts every unfinished export that no run holds back to <c>queued</c> and enqueues a run for it.
/// After kill -9 the Hangfire job of a running export only becomes visible again once its invisibility timeout
/// passes (5 minutes), and meanwhile the export would show <c>running</c> with nothing running it; an export whose
/// node died between insert and enqueue has no job at all. A live run holds the export row's lock (<c>FOR UPDATE</c>)
/// from before its first chunk until its commit, so <c>SKIP LOCKED</c> leaves it alone. A spare run is harmless: it
/// finds the export completed (or waits for the run holding it, then finds it completed) and returns; the old job,
/// when it reappears, does the same.
/// </summary>
internal sealed class ExportRecovery(NpgsqlDataSource db, IBackgroundJobClient jobs, ILogger<ExportRecovery> log) : BackgroundService
{
    private const string OrphansSql = """
        UPDATE import.exports e SET status = 'queued'
        FROM (SELECT id FROM import.exports WHERE status IN ('queued', 'running') ORDER BY created_at FOR UPDATE SKIP LOCKED) o
        WHERE e.id = o.id
        RETURNING e.id
        """;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            List<Guid> orphans;
            await using (var conn = await db.OpenConnectionAsync(ct))
                orphans = (await conn.QueryAsync<Guid>(new CommandDefinition(OrphansSql, cancellationToken: ct))).AsList();
            foreach (var id in orphans)
            {
                jobs.Enqueue<ExportLeadsJob>(ExportLeadsJob.Queue, j => j.RunAsync(id, CancellationToken.None));
                log.LogInformation("Export {ExportId} had no running worker; enqueued it again", TypeId.Format(IdPrefix.Export, id));
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            log.LogWarning(e, "Could not look for interrupted exports");
        }
    }
}
