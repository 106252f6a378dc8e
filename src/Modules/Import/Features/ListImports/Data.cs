using Dapper;
using Modules.Import.Data;
using Npgsql;

namespace Modules.Import.Features.ListImports;

internal static class Data
{
    private const string CountSql = "SELECT count(*) FROM import.imports WHERE workspace_id = @WorkspaceId AND status <> 'uploading'";

    private const string PageSql = $"""
        SELECT {ImportReads.Columns}
        FROM import.imports
        WHERE workspace_id = @WorkspaceId AND status <> 'uploading'
        ORDER BY created_at DESC, id DESC
        LIMIT @Limit OFFSET @Offset
        """;

    public static Task<long> CountAsync(NpgsqlConnection conn, Guid workspaceId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, new { WorkspaceId = workspaceId }, cancellationToken: ct));

    public static async Task<IReadOnlyList<ImportView>> PageAsync(NpgsqlConnection conn, Guid workspaceId, int limit, long offset, CancellationToken ct) =>
        (await conn.QueryAsync<ImportView>(new CommandDefinition(PageSql,
            new { WorkspaceId = workspaceId, Limit = limit, Offset = offset }, cancellationToken: ct))).AsList();
}
