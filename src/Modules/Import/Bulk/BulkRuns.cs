using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Modules.Webhooks.Public;
using Npgsql;

namespace Modules.Import.Bulk;

internal static class BulkStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

internal static class BulkActionNames
{
    public const string SetStatus = "set_status";
    public const string Assign = "assign";
    public const string Unassign = "unassign";
    public const string AddTag = "add_tag";
    public const string RemoveTag = "remove_tag";
    public const string Delete = "delete";
    public static readonly string[] All = [SetStatus, Assign, Unassign, AddTag, RemoveTag, Delete];
}

/// <summary>A bulk action as <c>GET /api/leads/bulk/:id</c> shows it (spec §12).</summary>
internal sealed class BulkActionView
{
    [TypeId(IdPrefix.Bulk)] public Guid Id { get; init; }
    /// <summary><c>queued</c>, <c>running</c>, <c>completed</c> or <c>failed</c>.</summary>
    [OneOf(typeof(BulkStatus))] public string Status { get; init; } = "";
    /// <summary>set_status, assign, unassign, add_tag, remove_tag or delete.</summary>
    [OneOf(typeof(BulkActionNames))] public string Action { get; init; } = "";
    /// <summary>Leads the filter matched when the action was accepted (the list's total then): the leads it acts on.</summary>
    public long Matched { get; init; }
    /// <summary>Matched leads done so far.</summary>
    public long Processed { get; init; }
    /// <summary>Processed leads the action changed (the others already had the status, assignee or tag).</summary>
    public long Changed { get; init; }
    /// <summary>Matched leads that were deleted or merged away before their turn.</summary>
    public long Failed { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    /// <summary>Why the action failed; set when failed.</summary>
    public string? FailureReason { get; init; }
}

/// <summary>What a run needs to know about its bulk action.</summary>
internal sealed record BulkRun(Guid Id, Guid WorkspaceId, string Action, string Params, long Processed, int Attempts, string ActorId, string? ActorName);

/// <summary>The bulk action's parameters as stored (<c>params</c>): only the one its action takes is set.</summary>
internal sealed record BulkParams(string? Status = null, Guid? UserId = null, string? Tag = null);

internal static class BulkUrls
{
    public static string Status(Guid id) => $"/api/leads/bulk/{TypeId.Format(IdPrefix.Bulk, id)}";
}

internal static class BulkProblems
{
    public static ApiProblemException NotFound() => ApiProblemException.NotFound("bulk_action_not_found", "Bulk action");
    public static Guid ParseOrNotFound(string id) => TypeId.TryParse(id, IdPrefix.Bulk, out var g) ? g : throw NotFound();
}

/// <summary>
/// The bulk action row through its life: inserted with its fixed matched set, claimed by a run, advanced by each committed
/// chunk (<see cref="BulkChunks"/>: chunks of one action are applied by several streams, and two runs of one action —
/// Hangfire delivers at least once — share them, each chunk applied once), then completed (<see cref="BulkCompletion"/>)
/// under its row lock, or failed.
/// </summary>
internal static class BulkRuns
{
    private const string Columns = "id, status, action, matched, processed, changed, failed, created_at, started_at, finished_at, failure_reason";

    private const string InsertSql = """
        INSERT INTO import.bulk_actions (id, workspace_id, action, params, filter, matched, actor_id, actor_name)
        VALUES (@Id, @WorkspaceId, @Action, @Params::jsonb, @Filter::jsonb, @Matched, @ActorId, @ActorName)
        """;

    private const string ClaimSql = """
        UPDATE import.bulk_actions
        SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())
        WHERE id = @Id AND status IN ('queued', 'running')
        RETURNING id, workspace_id, action, params::text, processed, attempts, actor_id, actor_name
        """;

    private const string LockSql = "SELECT processed FROM import.bulk_actions WHERE id = @Id AND status = 'running' FOR UPDATE";

    private const string ProgressSql = """
        UPDATE import.bulk_actions SET processed = processed + @Processed, changed = changed + @Changed, failed = failed + @Failed
        WHERE id = @Id AND status = 'running'
        RETURNING processed
        """;

    internal const string CompleteSql = """
        UPDATE import.bulk_actions SET status = 'completed', finished_at = clock_timestamp()
        WHERE id = @Id AND status = 'running'
        RETURNING workspace_id, action, matched, processed, changed, failed
        """;

    private const string RequeueSql = "UPDATE import.bulk_actions SET status = 'queued' WHERE id = @Id AND status = 'running'";

    private const string FailSql = """
        WITH f AS (
            UPDATE import.bulk_actions
            SET status = CASE WHEN @Final THEN 'failed' ELSE 'queued' END,
                failure_reason = CASE WHEN @Final THEN @Reason END,
                finished_at = CASE WHEN @Final THEN clock_timestamp() END
            WHERE id = @Id AND status = 'running'
            RETURNING id
        ), cut AS (
            DELETE FROM import.bulk_chunking WHERE @Final AND bulk_id IN (SELECT id FROM f)
        )
        DELETE FROM import.bulk_chunks WHERE @Final AND bulk_id IN (SELECT id FROM f)
        """;

    private static readonly string FindSql = $"SELECT {Columns} FROM import.bulk_actions WHERE id = @Id AND workspace_id = @WorkspaceId";
    private static readonly string PageSql = $"""
        SELECT {Columns} FROM import.bulk_actions WHERE workspace_id = @WorkspaceId
        ORDER BY created_at DESC, id DESC LIMIT @Limit OFFSET @Offset
        """;
    private const string CountSql = "SELECT count(*) FROM import.bulk_actions WHERE workspace_id = @WorkspaceId";

    public static Task InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, Guid workspaceId, string action, string paramsJson,
        string filterJson, long matched, string actorId, string? actorName, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = id, WorkspaceId = workspaceId, Action = action, Params = paramsJson, Filter = filterJson, Matched = matched,
            ActorId = actorId, ActorName = actorName,
        }, tx, cancellationToken: ct));

    public static async Task<BulkRun?> ClaimAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<BulkRun>(new CommandDefinition(ClaimSql, new { Id = id }, cancellationToken: ct));
    }

    /// <summary>Locks the running action (to complete it); its leads done so far, or null when it is no longer running.</summary>
    public static Task<long?> LockRunningAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(LockSql, new { Id = id }, tx, cancellationToken: ct));

    /// <summary>Adds a chunk's counts to the running action; its <c>processed</c> now, or null when it is no longer running.</summary>
    public static Task<long?> ProgressAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, int processed, int changed, int failed, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(ProgressSql, new { Id = id, Processed = (long)processed, Changed = (long)changed, Failed = (long)failed },
            tx, cancellationToken: ct));

    public static async Task RequeueAsync(NpgsqlDataSource db, Guid id)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(new CommandDefinition(RequeueSql, new { Id = id }));
    }

    public static async Task FailAsync(NpgsqlDataSource db, Guid id, bool final, string reason)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(new CommandDefinition(FailSql, new { Id = id, Final = final, Reason = reason }));
    }

    public static Task<BulkActionView?> FindAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<BulkActionView>(new CommandDefinition(FindSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));

    public static async Task<(long Total, List<BulkActionView> Rows)> PageAsync(NpgsqlConnection conn, Guid workspaceId, int limit, long offset,
        CancellationToken ct)
    {
        var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, new { WorkspaceId = workspaceId }, cancellationToken: ct));
        var rows = await conn.QueryAsync<BulkActionView>(new CommandDefinition(PageSql, new { WorkspaceId = workspaceId, Limit = limit, Offset = offset },
            cancellationToken: ct));
        return (total, rows.AsList());
    }
}

/// <summary>
/// The one place a bulk action completes: the last chunk's transaction marks it completed and drops its matched set. Anything
/// that must happen exactly once when a bulk action completes (the change feed's <c>bulk.completed</c> event) belongs here,
/// inside the same transaction.
/// </summary>
internal static class BulkCompletion
{
    public static async Task CompleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, BulkRun run, CancellationToken ct)
    {
        var done = await conn.QuerySingleOrDefaultAsync<Completed>(new CommandDefinition(BulkRuns.CompleteSql, new { run.Id }, tx, cancellationToken: ct));
        // bulk.completed joins the change feed in the same transaction (outbox), once: only the run that completed it.
        if (done is not null)
            await ChangeFeed.AppendAsync(conn, tx, done.WorkspaceId, ChangeFeed.BulkCompleted, null, new
            {
                bulkId = TypeId.Format(IdPrefix.Bulk, run.Id),
                done.Action, done.Matched, done.Processed, done.Changed, done.Failed,
            }, ct);
        await Modules.Leads.Public.LeadSelections.ForgetAsync(conn, tx, run.Id, ct);
        await BulkChunks.ForgetAsync(conn, tx, run.Id, ct);
    }

    private sealed record Completed(Guid WorkspaceId, string Action, long Matched, long Processed, long Changed, long Failed);
}

/// <summary>What became of a chunk a stream tried.</summary>
internal enum ChunkOutcome
{
    /// <summary>Applied and committed by this stream.</summary>
    Applied,
    /// <summary>Committed before (by this run or another): skipped.</summary>
    Done,
    /// <summary>Another run of the action is applying it now: try again later.</summary>
    Busy,
    /// <summary>The action is no longer running: the stream stops.</summary>
    Stopped,
}

/// <summary>How an action's matched set is cut into chunks: chunk c is selection positions (Base + c·Size, Base + (c+1)·Size].</summary>
internal sealed record ChunkCut(int Size, long Base, int Count)
{
    /// <summary>The selection position chunk <paramref name="chunk"/> starts after.</summary>
    public long After(int chunk) => Base + (long)chunk * Size;
}

/// <summary>
/// The numbered chunks of a bulk action (migration 0075): the cut, fixed at its first run, and the chunks done, each
/// recorded in the transaction that applied it.
/// </summary>
internal static class BulkChunks
{
    // The first run fixes the cut; any later run (another Bulk:ChunkSize after a restart, a second run at the same time)
    // reads the same one. An action a run of the sequential scheme left half done keeps its prefix: Base = processed.
    private const string CutSql = """
        INSERT INTO import.bulk_chunking (bulk_id, size, base, chunks)
        SELECT id, @Size, processed, ceil((matched - processed)::numeric / @Size)::int FROM import.bulk_actions WHERE id = @Id
        ON CONFLICT (bulk_id) DO NOTHING;
        SELECT size, base, chunks AS count FROM import.bulk_chunking WHERE bulk_id = @Id;
        """;

    private const string PendingSql = """
        SELECT n FROM generate_series(0, @Count - 1) n
        WHERE NOT EXISTS (SELECT 1 FROM import.bulk_chunks c WHERE c.bulk_id = @Id AND c.chunk_no = n)
        ORDER BY n
        """;

    // Claim: a transaction-scoped try-lock on (action, chunk) — never waits; held by another stream or run = busy —
    // then the chunk's done row, first, so the primary key refuses a chunk already committed. The lock key is a 64-bit
    // hash in the one-bigint advisory space (the two-integer space is the lead counters' slots, migration 0050); a
    // collision with another holder only makes the chunk wait its turn.
    private const string ClaimSql = """
        WITH l AS (SELECT pg_try_advisory_xact_lock(hashtextextended(@Id::text || '/' || @Chunk, 1)) AS locked),
        ins AS (
            INSERT INTO import.bulk_chunks (bulk_id, chunk_no) SELECT @Id, @Chunk FROM l WHERE l.locked
            ON CONFLICT DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT locked FROM l) AS locked, EXISTS (SELECT 1 FROM ins) AS claimed
        """;

    private const string DoneCountSql = "SELECT count(*) FROM import.bulk_chunks WHERE bulk_id = @Id";

    private const string ForgetSql = """
        DELETE FROM import.bulk_chunks WHERE bulk_id = @Id;
        DELETE FROM import.bulk_chunking WHERE bulk_id = @Id;
        """;

    public static async Task<ChunkCut> CutAsync(NpgsqlDataSource db, Guid id, int size, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<ChunkCut>(new CommandDefinition(CutSql, new { Id = id, Size = size }, cancellationToken: ct));
    }

    /// <summary>The chunks not done yet, in order.</summary>
    public static async Task<List<int>> PendingAsync(NpgsqlDataSource db, Guid id, ChunkCut cut, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<int>(new CommandDefinition(PendingSql, new { Id = id, cut.Count }, cancellationToken: ct))).AsList();
    }

    /// <summary><see cref="ChunkOutcome.Applied"/> when this transaction now owns the chunk (to apply it), else why not.</summary>
    public static async Task<ChunkOutcome> ClaimAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, int chunk, CancellationToken ct)
    {
        var (locked, claimed) = await conn.QuerySingleAsync<(bool, bool)>(new CommandDefinition(ClaimSql, new { Id = id, Chunk = chunk }, tx,
            cancellationToken: ct));
        return claimed ? ChunkOutcome.Applied : locked ? ChunkOutcome.Done : ChunkOutcome.Busy;
    }

    public static Task<long> DoneCountAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteScalarAsync<long>(new CommandDefinition(DoneCountSql, new { Id = id }, tx, cancellationToken: ct));

    public static Task ForgetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(ForgetSql, new { Id = id }, tx, cancellationToken: ct));
}
