using Dapper;
using Kernel.Ids;
using Modules.Webhooks.Public;
using Npgsql;

namespace Modules.Import.Exports;

/// <summary>An export claimed for a run of <c>ExportLeadsJob</c>.</summary>
internal sealed class ExportRun
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string Filters { get; init; } = "{}";
    public int Attempts { get; init; }
}

/// <summary>
/// The export job's state changes. Safe to run twice: the claim is a guarded update (a completed export is never
/// run again), and the file is written under the export row's lock in one transaction that ends with status
/// <c>completed</c>, so a second concurrent run waits and then finds nothing to do, and a crashed run leaves no chunks.
/// </summary>
internal static class ExportRuns
{
    private const string ClaimSql = """
        UPDATE import.exports
        SET status = 'running', attempts = attempts + 1, started_at = now(), finished_at = NULL, failure_reason = NULL
        WHERE id = @Id AND status <> 'completed'
        RETURNING id, workspace_id, filters::text AS filters, attempts
        """;

    private const string LockSql = "SELECT status FROM import.exports WHERE id = @Id FOR UPDATE";

    private const string DeleteChunksSql = "DELETE FROM import.export_chunks WHERE export_id = @Id";

    // clock_timestamp(), not now(): this runs at the end of the transaction that wrote the file, and now() is when that
    // transaction began, which made finishedAt the moment writing started.
    private const string CompleteSql = """
        UPDATE import.exports
        SET status = 'completed', row_count = @Rows, byte_count = @Bytes, finished_at = clock_timestamp()
        WHERE id = @Id
        RETURNING workspace_id
        """;

    private const string RequeueSql = "UPDATE import.exports SET status = 'queued' WHERE id = @Id AND status = 'running'";

    private const string FailSql = """
        UPDATE import.exports
        SET status = CASE WHEN @Final THEN 'failed' ELSE 'queued' END,
            failure_reason = CASE WHEN @Final THEN @Reason END,
            finished_at = CASE WHEN @Final THEN now() END
        WHERE id = @Id AND status = 'running'
        """;

    /// <summary>Marks the export running (one more attempt); null when it is completed already or does not exist.</summary>
    public static async Task<ExportRun?> ClaimAsync(NpgsqlDataSource db, Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<ExportRun>(new CommandDefinition(ClaimSql, new { Id = id }, cancellationToken: ct));
    }

    /// <summary>
    /// Takes the export row's lock for the rest of <paramref name="tx"/> and says whether this run should write the
    /// file: false when another run completed it meanwhile (this call waits for a concurrent run to finish).
    /// </summary>
    public static async Task<bool> LockRunningAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        await conn.QuerySingleOrDefaultAsync<string>(new CommandDefinition(LockSql, new { Id = id }, tx, cancellationToken: ct)) == ExportStatus.Running;

    /// <summary>Chunks a previous run left (none can be committed without completion, but the file always starts over).</summary>
    public static Task DeleteChunksAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(DeleteChunksSql, new { Id = id }, tx, cancellationToken: ct));

    /// <summary>Completes the export in the transaction that wrote its last chunk.</summary>
    /// <summary>Marks the export completed and announces it on the change feed, both in the caller's transaction.</summary>
    public static async Task CompleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, long rows, long bytes, CancellationToken ct)
    {
        var workspaceId = await conn.QuerySingleAsync<Guid>(new CommandDefinition(CompleteSql, new { Id = id, Rows = rows, Bytes = bytes }, tx, cancellationToken: ct));
        await ChangeFeed.AppendAsync(conn, tx, workspaceId, ChangeFeed.ExportCompleted, null,
            new { exportId = TypeId.Format(IdPrefix.Export, id), rows, bytes }, ct);
    }

    /// <summary>Back to queued: the run was interrupted by shutdown and Hangfire will run it again.</summary>
    public static async Task RequeueAsync(NpgsqlDataSource db, Guid id)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(new CommandDefinition(RequeueSql, new { Id = id }));
    }

    /// <summary>After a failed run: queued again while retries remain, failed (with a reason for the client) after the last.</summary>
    public static async Task FailAsync(NpgsqlDataSource db, Guid id, bool final, string reason)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(new CommandDefinition(FailSql, new { Id = id, Final = final, Reason = reason }));
    }
}
