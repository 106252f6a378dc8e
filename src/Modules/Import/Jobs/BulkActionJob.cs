using System.Text.Json;
using Hangfire;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.Extensions.Logging;
using Modules.Import.Bulk;
using Modules.Leads.Public;
using Modules.Tags.Public;
using Npgsql;

// Hangfire stores this type's full name in every enqueued job: the namespace and class name must never change.
namespace Modules.Import.Jobs;

/// <summary>
/// Applies a bulk action (spec §12) to its matched set, fixed at acceptance (<see cref="LeadSelections"/>), in chunks of
/// <c>Bulk:ChunkSize</c> leads, pausing between them when <c>Bulk:DutyCycle</c> is below 1 (<see cref="BulkSettings"/>)
/// so that interactive requests keep more of the CPU. Each chunk is one transaction: lock the action row, take the next leads after
/// <c>processed</c>, change them through the same writers as the single-lead endpoints (events with the key as actor and
/// <c>bulkId</c>), advance <c>processed</c>, commit. A crash loses at most the uncommitted chunk, which the next run redoes;
/// a committed chunk is never applied again, so no lead is changed twice.
/// </summary>
internal sealed class BulkActionJob(NpgsqlDataSource db, LeadBatchActions leads, BulkSettings settings, ILogger<BulkActionJob> log)
{
    /// <summary>Its own queue and worker, so bulk actions never hold back imports or exports (or the other way round).</summary>
    public const string Queue = "bulk";

    internal const int MaxAttempts = 4;

    /// <summary>Test hook: runs inside each chunk's transaction, before its commit, with the leads processed so far including it.</summary>
    internal Func<long, CancellationToken, Task>? AfterChunk { get; set; }

    [Queue(Queue)]
    [AutomaticRetry(Attempts = MaxAttempts - 1)]
    [TypeIdDisplayName("Bulk action {0}", IdPrefix.Bulk)]
    public async Task RunAsync(Guid bulkId, CancellationToken ct)
    {
        var run = await BulkRuns.ClaimAsync(db, bulkId, ct);
        if (run is null)
        {
            log.LogInformation("Bulk action {BulkId} is finished already or does not exist; nothing to do", TypeId.Format(IdPrefix.Bulk, bulkId));
            return;
        }
        try
        {
            var clock = new System.Diagnostics.Stopwatch();
            while (true)
            {
                clock.Restart();
                if (!await ChunkAsync(run, ct)) break;
                var pause = settings.PauseAfter(clock.Elapsed);
                if (pause > TimeSpan.Zero) await Task.Delay(pause, ct);
            }
            log.LogInformation("Bulk action {BulkId} ({Action}) completed (attempt {Attempt})", TypeId.Format(IdPrefix.Bulk, bulkId), run.Action, run.Attempts);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            await BulkRuns.RequeueAsync(db, bulkId);
            throw;
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("userId", StringComparison.Ordinal))
        {
            // The member to assign to was removed meanwhile: retrying cannot help.
            await BulkRuns.FailAsync(db, bulkId, final: true, e.Message + " Leads processed before that keep their new assignee.");
        }
        catch (Exception e)
        {
            var final = run.Attempts >= MaxAttempts;
            log.LogError(e, "Bulk action {BulkId} failed on attempt {Attempt} of {MaxAttempts}", TypeId.Format(IdPrefix.Bulk, bulkId), run.Attempts, MaxAttempts);
            await BulkRuns.FailAsync(db, bulkId, final,
                $"The bulk action failed {run.Attempts} times and was given up; leads processed before that keep their changes. Report this ID if it recurs.");
            throw;
        }
    }

    /// <summary>One chunk in one transaction; false once the action is completed (or no longer running).</summary>
    private async Task<bool> ChunkAsync(BulkRun run, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await BulkRuns.LockRunningAsync(conn, tx, run.Id, ct) is not { } processed) return false;
        var ids = await LeadSelections.ChunkAsync(conn, tx, run.Id, processed, settings.ChunkSize, ct);
        if (ids.Length == 0)
        {
            await BulkCompletion.CompleteAsync(conn, tx, run, ct);
            await tx.CommitAsync(ct);
            return false;
        }
        var result = await ApplyAsync(conn, tx, run, ids, ct);
        await BulkRuns.ProgressAsync(conn, tx, run.Id, ids.Length, result.Changed, ids.Length - result.Found, ct);
        if (AfterChunk is not null) await AfterChunk(processed + ids.Length, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private Task<BatchResult> ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, BulkRun run, Guid[] ids, CancellationToken ct)
    {
        var p = JsonSerializer.Deserialize<BulkParams>(run.Params, JsonConventions.Options) ?? new BulkParams();
        var actor = new Actor(ActorTypes.ApiKey, run.ActorId, run.ActorName);
        var extra = new Dictionary<string, object?> { ["bulkId"] = TypeId.Format(IdPrefix.Bulk, run.Id) };
        return run.Action switch
        {
            BulkActionNames.SetStatus => leads.SetStatusAsync(conn, tx, run.WorkspaceId, ids, p.Status!, actor, extra, ct),
            BulkActionNames.Assign => leads.AssignAsync(conn, tx, run.WorkspaceId, ids, p.UserId, actor, extra, ct),
            BulkActionNames.Unassign => leads.AssignAsync(conn, tx, run.WorkspaceId, ids, null, actor, extra, ct),
            BulkActionNames.AddTag => TagBatch.AttachAsync(conn, tx, run.WorkspaceId, ids, p.Tag!, actor, extra, ct),
            BulkActionNames.RemoveTag => TagBatch.DetachAsync(conn, tx, run.WorkspaceId, ids, p.Tag!, actor, extra, ct),
            BulkActionNames.Delete => leads.DeleteAsync(conn, tx, run.WorkspaceId, ids, ct),
            _ => throw new InvalidOperationException($"Unknown bulk action '{run.Action}'."),
        };
    }
}

/// <summary>
/// On a worker's start, enqueues every bulk action not finished (left by a crash or a node that died before enqueueing):
/// after kill -9, Hangfire's own job only reappears once its invisibility timeout passes. A spare run is harmless: chunks
/// are taken under the action row's lock after the last committed one, so two runs take turns and change nothing twice.
/// </summary>
internal sealed class BulkRecovery(NpgsqlDataSource db, IBackgroundJobClient jobs, ILogger<BulkRecovery> log) : Microsoft.Extensions.Hosting.BackgroundService
{
    private const string UnfinishedSql = "SELECT id FROM import.bulk_actions WHERE status IN ('queued', 'running') ORDER BY created_at";

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            List<Guid> unfinished;
            await using (var conn = await db.OpenConnectionAsync(ct))
                unfinished = (await Dapper.SqlMapper.QueryAsync<Guid>(conn, new Dapper.CommandDefinition(UnfinishedSql, cancellationToken: ct))).ToList();
            foreach (var id in unfinished)
            {
                jobs.Enqueue<BulkActionJob>(BulkActionJob.Queue, j => j.RunAsync(id, CancellationToken.None));
                log.LogInformation("Bulk action {BulkId} was unfinished at start; enqueued it again", TypeId.Format(IdPrefix.Bulk, id));
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            log.LogWarning(e, "Could not look for interrupted bulk actions");
        }
    }
}
