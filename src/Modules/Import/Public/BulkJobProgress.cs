using Dapper;
using Npgsql;

namespace Modules.Import.Public;

/// <summary>Recent imports, exports and bulk actions (spec §12) with their progress, for the operators' view in the Hangfire dashboard.</summary>
public static class BulkJobProgress
{
    public sealed class Row
    {
        public string Kind { get; init; } = "";
        public Guid Id { get; init; }
        public string WorkspaceName { get; init; } = "";
        public string Name { get; init; } = "";
        public string Status { get; init; } = "";
        public long? TotalRows { get; init; }
        public long ProcessedRows { get; init; }
        public long Failed { get; init; }
        public string? FailureReason { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? FinishedAt { get; init; }
    }

    private const string RecentSql = """
        SELECT * FROM (
            SELECT 'import' AS kind, i.id, w.name AS workspace_name, i.file_name AS name, i.status, i.total_rows,
                   i.processed_rows, i.failed, i.failure_reason, i.created_at, i.finished_at
            FROM import.imports i JOIN access.v_workspaces w ON w.id = i.workspace_id
            WHERE (@Workspace::text IS NULL OR w.name = @Workspace) AND (@Status::text IS NULL OR i.status = @Status)
            ORDER BY i.created_at DESC LIMIT @Limit) a
        UNION ALL
        SELECT * FROM (
            SELECT 'export', e.id, w.name, 'leads CSV export', e.status, e.row_count, coalesce(e.row_count, 0), 0::bigint,
                   e.failure_reason, e.created_at, e.finished_at
            FROM import.exports e JOIN access.v_workspaces w ON w.id = e.workspace_id
            WHERE (@Workspace::text IS NULL OR w.name = @Workspace) AND (@Status::text IS NULL OR e.status = @Status)
            ORDER BY e.created_at DESC LIMIT @Limit) b
        UNION ALL
        SELECT * FROM (
            SELECT 'bulk', b.id, w.name, 'bulk ' || b.action, b.status, b.matched, b.processed, b.failed,
                   b.failure_reason, b.created_at, b.finished_at
            FROM import.bulk_actions b JOIN access.v_workspaces w ON w.id = b.workspace_id
            WHERE (@Workspace::text IS NULL OR w.name = @Workspace) AND (@Status::text IS NULL OR b.status = @Status)
            ORDER BY b.created_at DESC LIMIT @Limit) c
        ORDER BY created_at DESC
        """;

    /// <summary>The most recent imports, exports and bulk actions, optionally of one workspace (by name) and in one status.</summary>
    public static async Task<IReadOnlyList<Row>> RecentAsync(NpgsqlDataSource db, int limit, string? workspace, string? status, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Row>(new CommandDefinition(RecentSql, new { Limit = limit, Workspace = workspace, Status = status }, cancellationToken: ct))).AsList();
    }
}
