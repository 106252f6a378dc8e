using Dapper;
using Npgsql;

namespace Modules.Import.Features.StartExport;

internal static class Data
{
    private const string InsertSql = """
        INSERT INTO import.exports (id, workspace_id, filters, status, created_by_key)
        VALUES (@Id, @WorkspaceId, @Filters::jsonb, 'queued', @KeyId)
        """;

    private const string NotQueuedSql = """
        UPDATE import.exports SET status = 'failed', failure_reason = @Reason, finished_at = now()
        WHERE id = @Id AND status = 'queued'
        """;

    public static Task InsertAsync(NpgsqlConnection conn, Guid id, Guid workspaceId, string filtersJson, Guid keyId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, new { Id = id, WorkspaceId = workspaceId, Filters = filtersJson, KeyId = keyId }, cancellationToken: ct));

    /// <summary>The job could not be enqueued: the export must not sit in 'queued' forever.</summary>
    public static Task MarkNotQueuedAsync(NpgsqlConnection conn, Guid id) =>
        conn.ExecuteAsync(new CommandDefinition(NotQueuedSql, new { Id = id, Reason = "The export could not be queued. Start it again." }));
}
