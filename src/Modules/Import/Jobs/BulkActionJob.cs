using System.Text.Json;
using Hangfire;
using Kernel.Data;
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
/// <c>Bulk:ChunkSize</c> leads applied by <c>Bulk:Streams</c> concurrent streams, each on a database connection of its own
/// (<see cref="BackgroundDataSource"/>: not pooled with the API's, and at a lower CPU priority on the embedded cluster),
/// pausing between chunks when <c>Bulk:DutyCycle</c> is below 1 (<see cref="BulkSettings"/>).
/// <para>The matched set is cut into numbered chunks once, at the action's first run (<see cref="BulkChunks"/>). Each chunk
/// is one transaction: claim it (a transaction-scoped try-lock on (action, chunk), so two streams — of this run or of a
/// second run of the same action — never work on one chunk at once, then its row in <c>import.bulk_chunks</c>, whose
/// primary key refuses a chunk already committed), change its leads through the same writers as the single-lead endpoints
/// (events with the key as actor and <c>bulkId</c>; leads locked in ascending ID order, chunks disjoint), add its counts to
/// the action row last (so that row's lock is held only for the commit), commit. A crash loses at most the uncommitted
/// chunks, which the next run does; a committed chunk is never applied again, so no lead is changed twice. When no chunk
/// is left, the run completes the action under its row lock (<see cref="BulkCompletion"/>, once).</para>
/// </summary>
internal sealed class BulkActionJob(NpgsqlDataSource db, BackgroundDataSource streams, LeadBatchActions leads, BulkSettings settings,
    ILogger<BulkActionJob> log)
{
    /// <summary>Its own queue and worker, so bulk actions never hold back imports or exports (or the other way round).</summary>
    public const string Queue = "bulk";

    internal const int MaxAttempts = 4;

    /// <summary>A chunk that deadlocked (a concurrent writer locking in another order) is tried again this many times.</summary>
    private const int DeadlockRetries = 3;

    /// <summary>How long a stream waits before trying again a chunk another run of the same action holds.</summary>
    private static readonly TimeSpan BusyWait = TimeSpan.FromMilliseconds(200);

    /// <summary>Test hook: runs inside each chunk's transaction, before its commit, with the action's <c>processed</c> including it.</summary>
    internal Func<long, CancellationToken, Task>? AfterChunk { get; set; }

    /// <summary>Test hook: runs inside each chunk's transaction once its leads are changed, before the action row is updated, with the chunk's number.</summary>
    internal Func<int, CancellationToken, Task>? BeforeProgress { get; set; }

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
            var cut = await BulkChunks.CutAsync(db, run.Id, settings.ChunkSize, ct);
            var queue = new ChunkQueue(await BulkChunks.PendingAsync(db, run.Id, cut, ct));
            await StreamsAsync(run, cut, queue, ct);
            if (await CompleteAsync(run, cut, ct))
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

    /// <summary>
    /// Runs the streams until no chunk is left (or the action stops running). The first stream to fail cancels the others
    /// (their open chunks roll back) and its exception is the run's.
    /// </summary>
    private async Task StreamsAsync(BulkRun run, ChunkCut cut, ChunkQueue queue, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Exception? first = null;
        var tasks = Enumerable.Range(0, Math.Min(settings.Streams, Math.Max(1, queue.Count))).Select(async _ =>
        {
            try
            {
                await StreamAsync(run, cut, queue, stop.Token);
            }
            catch (Exception e)
            {
                if (Interlocked.CompareExchange(ref first, e, null) is null) await stop.CancelAsync();
            }
        }).ToArray();
        await Task.WhenAll(tasks);
        if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
    }

    private async Task StreamAsync(BulkRun run, ChunkCut cut, ChunkQueue queue, CancellationToken ct)
    {
        await Task.Yield(); // each stream opens its connection concurrently, off the caller's stack
        await using var conn = await streams.OpenConnectionAsync(ct);
        var clock = new System.Diagnostics.Stopwatch();
        while (await queue.NextAsync(ct) is { } chunk)
        {
            clock.Restart();
            var outcome = await ChunkWithRetryAsync(conn, run, cut, chunk, ct);
            queue.Finish(chunk, outcome);
            if (outcome == ChunkOutcome.Stopped) return;
            if (outcome != ChunkOutcome.Applied) continue;
            var pause = settings.PauseAfter(clock.Elapsed);
            if (pause > TimeSpan.Zero) await Task.Delay(pause, ct);
        }
    }

    private async Task<ChunkOutcome> ChunkWithRetryAsync(NpgsqlConnection conn, BulkRun run, ChunkCut cut, int chunk, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ChunkAsync(conn, run, cut, chunk, ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt <= DeadlockRetries)
            {
                log.LogInformation("Chunk {Chunk} of bulk action {BulkId} deadlocked with another writer; trying it again", chunk,
                    TypeId.Format(IdPrefix.Bulk, run.Id));
            }
        }
    }

    /// <summary>One chunk in one transaction.</summary>
    private async Task<ChunkOutcome> ChunkAsync(NpgsqlConnection conn, BulkRun run, ChunkCut cut, int chunk, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        var claim = await BulkChunks.ClaimAsync(conn, tx, run.Id, chunk, ct);
        if (claim != ChunkOutcome.Applied) return claim;
        var ids = await LeadSelections.ChunkAsync(conn, tx, run.Id, cut.After(chunk), cut.Size, ct);
        var result = ids.Length == 0 ? new BatchResult(0, 0) : await ApplyAsync(conn, tx, run, ids, ct);
        if (BeforeProgress is not null) await BeforeProgress(chunk, ct);
        // Last: the action row stays locked only for the commit. Not running any more (failed, or completed by another
        // run) → this chunk's changes roll back and the stream stops.
        if (await BulkRuns.ProgressAsync(conn, tx, run.Id, ids.Length, result.Changed, ids.Length - result.Found, ct) is not { } processed)
            return ChunkOutcome.Stopped;
        if (AfterChunk is not null) await AfterChunk(processed, ct);
        await tx.CommitAsync(ct);
        return ChunkOutcome.Applied;
    }

    /// <summary>Completes the action once every chunk is done; false when it is not (it stopped running meanwhile).</summary>
    private async Task<bool> CompleteAsync(BulkRun run, ChunkCut cut, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await BulkRuns.LockRunningAsync(conn, tx, run.Id, ct) is null) return false;
        if (await BulkChunks.DoneCountAsync(conn, tx, run.Id, ct) < cut.Count)
        {
            log.LogWarning("Bulk action {BulkId}: its streams ended with chunks not done; the next run does them", TypeId.Format(IdPrefix.Bulk, run.Id));
            return false;
        }
        await BulkCompletion.CompleteAsync(conn, tx, run, ct);
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

    /// <summary>
    /// The chunks this run still has to try, shared by its streams: each is handed out once; one another run holds
    /// (<see cref="ChunkOutcome.Busy"/>) is handed out again after a short wait, until it is done by someone. Streams end
    /// when nothing is left.
    /// </summary>
    private sealed class ChunkQueue(IEnumerable<int> pending)
    {
        private readonly Queue<int> _pending = new(pending);
        private readonly List<int> _busy = [];
        private bool _stopped;

        public int Count => _pending.Count;

        public async Task<int?> NextAsync(CancellationToken ct)
        {
            while (true)
            {
                lock (_pending)
                {
                    if (_stopped) return null;
                    if (_pending.TryDequeue(out var chunk)) return chunk;
                    if (_busy.Count == 0) return null;
                    foreach (var b in _busy) _pending.Enqueue(b);
                    _busy.Clear();
                }
                await Task.Delay(BusyWait, ct);
            }
        }

        public void Finish(int chunk, ChunkOutcome outcome)
        {
            lock (_pending)
            {
                if (outcome == ChunkOutcome.Busy) _busy.Add(chunk);
                if (outcome == ChunkOutcome.Stopped) _stopped = true;
            }
        }
    }
}

/// <summary>
/// On a worker's start, enqueues every bulk action not finished (left by a crash or a node that died before enqueueing):
/// after kill -9, Hangfire's own job only reappears once its invisibility timeout passes. A spare run is harmless: a chunk is
/// claimed under a try-lock and recorded as done in its own transaction, so two runs share the chunks and change nothing twice.
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
